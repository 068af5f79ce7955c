// The layer cache's file format (issue 16): committed image layers never change, so their
// measured bytes and path index outlive the process (layer-cache-file.ts writes and reads them).
//
// Format (every number little-endian):
//   header   "LDUCACHE" · u32 format version · u32 header bytes · u32 entry count · u32 hash canary
//            · f64 body bytes · 32 bytes sha256 of the rest of the file (header and body)
//            · u16 + UTF-8 layerdu version · pad to 8
//   body     per entry: u32 + UTF-8 cache key · u16 + UTF-8 size record · pad to 8
//            · u64 ino · u64 dev · u64 ctime ns · f64 disk · f64 apparent
//            · u32 flags (1: has an index, 2: and its lookup table) · u32 entries
//            · u32 hardlinked entries · u32 table slots
//            · with an index, its typed arrays raw: f64 hashes, disk, apparent, linked inodes;
//              i32 parents, linked; u8 kinds; i32 table; pad to 8
//            then u32 waste figures · u32 0, each: u32 + UTF-8 job key · pad to 8 · f64 disk · f64 apparent
// Loading is a checksum and a few big copies per layer, not a parse of millions of paths.
// decodeLayerCache never throws: a damaged file is a reason, and the scan walks without it.
import { createHash } from 'node:crypto';
import { endianness } from 'node:os';
import type { Bytes, LayerIndex } from '../../collectors/lib/facts.js';
import { childHash } from '../../collectors/lib/path-index.js';
import type { CachedWalk, LayerCache } from './walk-dirs.js';

export const CACHE_MAGIC = 'LDUCACHE';
/** Bumped whenever the bytes or what a walk records change meaning. */
export const CACHE_FORMAT_VERSION = 1;
const FIXED_HEADER = 8 + 4 + 4 + 4 + 4 + 8 + 32 + 2;
/** A path hash of a fixed name: a file written by a build that hashed paths otherwise is of no use. */
const HASH_CANARY = childHash(childHash(0, 'layerdu'), 'cache') % 2 ** 32;
const LE = endianness() === 'LE';

/** What a cached walk is valid for: the layer directory as lstat saw it and the store's own record. */
export interface LayerStamp {
  ino: bigint;
  dev: bigint;
  ctimeNs: bigint;
  /** The store's record of the layer (its size, its entry count), as text; '' when it has none. */
  record: string;
}

export function sameStamp(a: LayerStamp | undefined, b: LayerStamp | null): boolean {
  return !!a && !!b && a.ino === b.ino && a.dev === b.dev && a.ctimeNs === b.ctimeNs && a.record === b.record;
}

/** Images' waste figures by job key (agent/scan/stepped-analyses.ts): they follow from the layers' indexes. */
export type WasteFigures = Map<string, Bytes>;

export type DecodeResult = { ok: true; entries: LayerCache; waste: WasteFigures; layerduVersion: string } | { ok: false; reason: string };

class Damaged extends Error {}

type Arr = Float64Array | Int32Array | Uint8Array;
const ARRAYS = (ix: LayerIndex): Arr[] => [ix.hashes, ix.disk, ix.apparent, ix.linkedInos, ix.parents, ix.linked, ix.kinds, ...(ix.table ? [ix.table] : [])];
const pad8 = (n: number) => (n + 7) & ~7;

function indexBytes(ix: LayerIndex): number {
  return pad8(ARRAYS(ix).reduce((s, a) => s + a.byteLength, 0));
}

/** The file's bytes for these entries (walks with a stamp only: one without is not persisted). */
export function encodeLayerCache(entries: ReadonlyMap<string, CachedWalk>, layerduVersion: string, waste: ReadonlyMap<string, Bytes> = new Map()): Buffer {
  const kept = [...entries].filter((e): e is [string, CachedWalk & { stamp: LayerStamp }] => e[1].stamp !== undefined);
  const ver = Buffer.from(layerduVersion, 'utf8');
  const headerBytes = pad8(FIXED_HEADER + ver.length);
  const texts = kept.map(([k, w]) => [Buffer.from(k, 'utf8'), Buffer.from(w.stamp.record, 'utf8')] as const);
  const wasteKeys = [...waste].map(([k, b]) => [Buffer.from(k, 'utf8'), b] as const);
  let bodyBytes = 8;
  kept.forEach(([, w], i) => {
    bodyBytes += pad8(4 + texts[i]![0].length + 2 + texts[i]![1].length) + 24 + 16 + 16 + (w.index ? indexBytes(w.index) : 0);
  });
  for (const [k] of wasteKeys) bodyBytes += pad8(4 + k.length) + 16;
  const out = Buffer.alloc(headerBytes + bodyBytes);
  let o = headerBytes;
  kept.forEach(([, w], i) => {
    const [key, record] = texts[i]!;
    const start = o;
    out.writeUInt32LE(key.length, o);
    key.copy(out, o + 4);
    o += 4 + key.length;
    out.writeUInt16LE(record.length, o);
    record.copy(out, o + 2);
    o = start + pad8(o + 2 + record.length - start);
    out.writeBigUInt64LE(w.stamp.ino, o);
    out.writeBigUInt64LE(w.stamp.dev, o + 8);
    out.writeBigUInt64LE(w.stamp.ctimeNs, o + 16);
    out.writeDoubleLE(w.bytes.disk, o + 24);
    out.writeDoubleLE(w.bytes.apparent, o + 32);
    const ix = w.index;
    out.writeUInt32LE(ix ? (ix.table ? 3 : 1) : 0, o + 40);
    out.writeUInt32LE(ix?.count ?? 0, o + 44);
    out.writeUInt32LE(ix?.linked.length ?? 0, o + 48);
    out.writeUInt32LE(ix?.table?.length ?? 0, o + 52);
    o += 56;
    if (ix) {
      const from = o;
      for (const a of ARRAYS(ix)) o = writeArray(out, o, a);
      o = from + pad8(o - from);
    }
  });
  out.writeUInt32LE(wasteKeys.length, o);
  o += 8;
  for (const [k, b] of wasteKeys) {
    out.writeUInt32LE(k.length, o);
    k.copy(out, o + 4);
    o += pad8(4 + k.length);
    out.writeDoubleLE(b.disk, o);
    out.writeDoubleLE(b.apparent, o + 8);
    o += 16;
  }
  out.write(CACHE_MAGIC, 0, 'latin1');
  out.writeUInt32LE(CACHE_FORMAT_VERSION, 8);
  out.writeUInt32LE(headerBytes, 12);
  out.writeUInt32LE(kept.length, 16);
  out.writeUInt32LE(HASH_CANARY, 20);
  out.writeDoubleLE(out.length - headerBytes, 24);
  out.writeUInt16LE(ver.length, 64);
  ver.copy(out, 66);
  checksum(out).copy(out, 32);
  return out;
}

/** sha256 of every byte but the checksum's own 32. */
function checksum(buf: Buffer): Buffer {
  return createHash('sha256').update(buf.subarray(0, 32)).update(buf.subarray(64)).digest();
}

function writeArray(out: Buffer, o: number, a: Arr): number {
  if (LE || a instanceof Uint8Array) {
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).copy(out, o);
    return o + a.byteLength;
  }
  const v = new DataView(out.buffer, out.byteOffset);
  for (let i = 0; i < a.length; i++, o += a.BYTES_PER_ELEMENT) {
    if (a instanceof Float64Array) v.setFloat64(o, a[i]!, true);
    else v.setInt32(o, a[i]!, true);
  }
  return o;
}

/** The entries of a cache file, or why it cannot be used. Never throws. */
export function decodeLayerCache(buf: Uint8Array): DecodeResult {
  try {
    return { ok: true, ...decode(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)) };
  } catch (e) {
    if (e instanceof Damaged) return { ok: false, reason: e.message };
    return { ok: false, reason: `unreadable: ${(e as Error)?.message ?? String(e)}` };
  }
}

function need(buf: Buffer, o: number, n: number, what: string): void {
  if (!(n >= 0) || o + n > buf.length) throw new Damaged(`truncated: ${what} at byte ${o} runs past the end (${buf.length} bytes)`);
}

function decode(buf: Buffer): { entries: LayerCache; waste: WasteFigures; layerduVersion: string } {
  need(buf, 0, FIXED_HEADER, 'the header');
  if (buf.toString('latin1', 0, 8) !== CACHE_MAGIC) throw new Damaged('not a layerdu cache file (bad magic)');
  const format = buf.readUInt32LE(8);
  if (format !== CACHE_FORMAT_VERSION) throw new Damaged(`format version ${format}, this layerdu reads ${CACHE_FORMAT_VERSION}`);
  const headerBytes = buf.readUInt32LE(12);
  const count = buf.readUInt32LE(16);
  if (buf.readUInt32LE(20) !== HASH_CANARY) throw new Damaged('written by a layerdu that hashes paths otherwise');
  const bodyBytes = buf.readDoubleLE(24);
  const verLen = buf.readUInt16LE(64);
  if (headerBytes !== pad8(FIXED_HEADER + verLen) || headerBytes > buf.length) throw new Damaged(`header length ${headerBytes} does not fit`);
  const layerduVersion = buf.toString('utf8', 66, 66 + verLen);
  if (bodyBytes !== buf.length - headerBytes) throw new Damaged(`truncated or padded: the body should be ${bodyBytes} bytes, the file holds ${buf.length - headerBytes}`);
  if (!checksum(buf).equals(buf.subarray(32, 64))) throw new Damaged('checksum mismatch');

  const entries: LayerCache = new Map();
  let o = headerBytes;
  for (let n = 0; n < count; n++) {
    const start = o;
    need(buf, o, 4, 'a key length');
    const keyLen = buf.readUInt32LE(o);
    need(buf, o + 4, keyLen + 2, 'a key');
    const key = buf.toString('utf8', o + 4, o + 4 + keyLen);
    o += 4 + keyLen;
    const recLen = buf.readUInt16LE(o);
    need(buf, o + 2, recLen, 'a size record');
    const record = buf.toString('utf8', o + 2, o + 2 + recLen);
    o = start + pad8(o + 2 + recLen - start);
    need(buf, o, 56, 'an entry');
    const stamp: LayerStamp = { ino: buf.readBigUInt64LE(o), dev: buf.readBigUInt64LE(o + 8), ctimeNs: buf.readBigUInt64LE(o + 16), record };
    const bytes: Bytes = { disk: buf.readDoubleLE(o + 24), apparent: buf.readDoubleLE(o + 32) };
    const flags = buf.readUInt32LE(o + 40);
    const c = buf.readUInt32LE(o + 44);
    const linked = buf.readUInt32LE(o + 48);
    const slots = buf.readUInt32LE(o + 52);
    o += 56;
    const tableOk = flags === 3 ? slots >= c * 2 && (slots & (slots - 1)) === 0 : slots === 0;
    if (flags > 3 || flags === 2 || !tableOk || (flags === 0 && (c !== 0 || linked !== 0)) || linked > c) throw new Damaged(`entry ${n} (${key}): bad flags or counts`);
    let index: LayerIndex | null = null;
    if (flags !== 0) {
      const len = pad8(c * 29 + linked * 12 + slots * 4);
      need(buf, o, len, `the index of ${key}`);
      let p = o;
      const take = <T extends Arr>(Make: { new (b: ArrayBuffer): T; BYTES_PER_ELEMENT: number }, items: number): T => {
        const size = items * Make.BYTES_PER_ELEMENT;
        const a = readArray(buf, p, size, Make);
        p += size;
        return a;
      };
      const hashes = take(Float64Array, c);
      const disk = take(Float64Array, c);
      const apparent = take(Float64Array, c);
      const linkedInos = take(Float64Array, linked);
      const parents = take(Int32Array, c);
      const linkedAt = take(Int32Array, linked);
      const kinds = take(Uint8Array, c);
      index = { count: c, hashes, parents, kinds, disk, apparent, linked: linkedAt, linkedInos };
      if (flags === 3) index.table = take(Int32Array, slots);
      checkIndex(index, key);
      o += len;
    }
    if (entries.has(key)) throw new Damaged(`key ${key} twice`);
    entries.set(key, { bytes, index, stamp });
  }
  need(buf, o, 8, 'the waste count');
  const wasteCount = buf.readUInt32LE(o);
  o += 8;
  const waste: WasteFigures = new Map();
  for (let n = 0; n < wasteCount; n++) {
    need(buf, o, 4, 'a waste key length');
    const len = buf.readUInt32LE(o);
    need(buf, o, pad8(4 + len) + 16, 'a waste figure');
    const key = buf.toString('utf8', o + 4, o + 4 + len);
    o += pad8(4 + len);
    waste.set(key, { disk: buf.readDoubleLE(o), apparent: buf.readDoubleLE(o + 8) });
    o += 16;
  }
  if (o !== buf.length) throw new Damaged(`${buf.length - o} bytes after the last entry`);
  return { entries, waste, layerduVersion };
}

function readArray<T extends Arr>(buf: Buffer, o: number, size: number, Make: { new (b: ArrayBuffer): T; BYTES_PER_ELEMENT: number }): T {
  // One copy into a fresh (aligned) buffer; on a big-endian host, element by element.
  const copy = buf.buffer.slice(buf.byteOffset + o, buf.byteOffset + o + size) as ArrayBuffer;
  if (LE || Make.BYTES_PER_ELEMENT === 1) return new Make(copy);
  const v = new DataView(copy);
  const a = new Make(new ArrayBuffer(size));
  for (let i = 0; i < a.length; i++) a[i] = Make === (Float64Array as unknown) ? v.getFloat64(i * 8, true) : v.getInt32(i * 4, true);
  return a;
}

/** What the analyses rely on: parents before children, known kinds, hardlinked entries ascending. */
function checkIndex(ix: LayerIndex, key: string): void {
  for (let i = 0; i < ix.count; i++) {
    const p = ix.parents[i]!;
    if (p < -1 || p >= i) throw new Damaged(`the index of ${key}: entry ${i} has parent ${p}`);
    if (ix.kinds[i]! > 4) throw new Damaged(`the index of ${key}: entry ${i} has kind ${ix.kinds[i]}`);
  }
  for (let i = 0; i < ix.linked.length; i++) {
    const e = ix.linked[i]!;
    if (e < 0 || e >= ix.count || (i > 0 && e <= ix.linked[i - 1]!)) throw new Damaged(`the index of ${key}: hardlinked entry ${e} out of order`);
  }
  if (ix.table) {
    let filled = 0;
    for (let i = 0; i < ix.table.length; i++) {
      const e = ix.table[i]!;
      if (e < 0 || e > ix.count) throw new Damaged(`the index of ${key}: table slot ${i} names entry ${e}`);
      if (e !== 0) filled++;
    }
    if (filled !== ix.count) throw new Damaged(`the index of ${key}: its table holds ${filled} of ${ix.count} entries`);
  }
}
