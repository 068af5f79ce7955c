// The integer and time encodings containerd puts in its bbolt files: Go's encoding/binary varints
// (ids are unsigned, sizes and v1/version are signed, zigzag) and time.MarshalBinary.
//
// containerd's own readers ignore a failed decode (`binary.Varint` returning n <= 0) and go on with
// 0: for us that would be a wrong size shown as a fact. So decoding here is strict: a truncated
// varint, one longer than Go ever writes (more than 10 bytes, past 64 bits, or a needless trailing
// zero byte) and a value with bytes after its varint are errors, and so is a number JavaScript
// cannot hold exactly.

export type Decoded = { value: number; end: number } | { error: string };
export type Parsed = { value: number } | { error: string };

/** binary.MaxVarintLen64 */
const MAX_LEN = 10;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function decodeRaw(buf: Buffer, offset: number): { value: bigint; end: number } | { error: string } {
  let value = 0n;
  for (let i = 0; i < MAX_LEN; i++) {
    const b = buf[offset + i];
    if (b === undefined) return { error: i === 0 ? 'empty varint' : `truncated varint (${i} bytes, no last byte)` };
    // The tenth byte may only carry the 64th bit.
    if (i === MAX_LEN - 1 && b > 1) return { error: 'varint overflows 64 bits' };
    value |= BigInt(b & 0x7f) << BigInt(7 * i);
    if (b < 0x80) {
      // Go writes the shortest form; a last byte of zero after others is padding no writer made.
      if (b === 0 && i > 0) return { error: `overlong varint (${i + 1} bytes, the last one zero)` };
      return { value, end: offset + i + 1 };
    }
  }
  return { error: 'varint overflows 64 bits' };
}

function safe(value: bigint, end: number): Decoded {
  if (value > MAX_SAFE || value < -MAX_SAFE) return { error: `varint ${value} is beyond 2^53` };
  return { value: Number(value), end };
}

/** One unsigned varint (Go binary.Uvarint) at `offset`. */
export function decodeUvarint(buf: Buffer, offset = 0): Decoded {
  const raw = decodeRaw(buf, offset);
  return 'error' in raw ? raw : safe(raw.value, raw.end);
}

/** One signed, zigzag-encoded varint (Go binary.Varint) at `offset`. */
export function decodeVarint(buf: Buffer, offset = 0): Decoded {
  const raw = decodeRaw(buf, offset);
  if ('error' in raw) return raw;
  const half = raw.value >> 1n;
  return safe((raw.value & 1n) === 0n ? half : -half - 1n, raw.end);
}

function whole(buf: Buffer, d: Decoded): Parsed {
  if ('error' in d) return d;
  if (d.end !== buf.length) return { error: `${buf.length - d.end} bytes after the varint` };
  return { value: d.value };
}

/** A bbolt value that is exactly one unsigned varint. */
export function parseUvarint(buf: Buffer): Parsed {
  return whole(buf, decodeUvarint(buf));
}

/** A bbolt value that is exactly one signed varint. */
export function parseVarint(buf: Buffer): Parsed {
  return whole(buf, decodeVarint(buf));
}

/** Seconds from 0001-01-01 (Go's internal epoch) to 1970-01-01. */
const UNIX_TO_INTERNAL = 62135596800n;
/** The range of a JavaScript Date, in milliseconds either side of 1970. */
const MAX_DATE_MS = 8.64e15;

/**
 * Go's time.MarshalBinary: version 1 (15 bytes: version, int64 seconds since year 1, int32
 * nanoseconds, int16 zone offset in minutes, -1 for UTC) or version 2 (16 bytes: the same plus
 * the offset's seconds). Returns the instant as an ISO string (to the millisecond, in UTC: the
 * zone does not change the instant), or null when the bytes are not such a time.
 */
export function parseGoTime(buf: Buffer): string | null {
  const version = buf[0];
  if (!((version === 1 && buf.length === 15) || (version === 2 && buf.length === 16))) return null;
  const seconds = buf.readBigInt64BE(1);
  const nanos = buf.readUInt32BE(9);
  if (nanos > 999_999_999) return null;
  const ms = Number(seconds - UNIX_TO_INTERNAL) * 1000 + Math.floor(nanos / 1e6);
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_DATE_MS) return null;
  return new Date(ms).toISOString();
}
