// A layer's paths in a compact, columnar form: a few typed arrays, 29 bytes a path, no
// strings kept. Paths are known by a 53-bit hash built from the parent's hash and the name, so a
// walker hashes as it descends and the waste and copy-up analyses compare layers by number.
// Indexes are built by path-index-builder.ts.
import type { EntryKind, IndexEntry } from './facts.js';

export const KINDS: readonly EntryKind[] = ['file', 'dir', 'opaque', 'whiteout', 'other'];
export const KIND = { file: 0, dir: 1, opaque: 2, whiteout: 3, other: 4 } as const;

export interface PathIndex {
  count: number;
  /** Hash of the full path relative to the layer's root. */
  hashes: Float64Array;
  /** Entry number of the parent directory; -1 for entries at the layer's root. Parents always come before their children. */
  parents: Int32Array;
  kinds: Uint8Array;
  disk: Float64Array;
  apparent: Float64Array;
  /** The entries that are hardlinked non-directories, ascending, and their inode numbers: few. */
  linked: Int32Array;
  linkedInos: Float64Array;
  /**
   * Open-addressing hash table for lookups by path (entry number + 1 by slot, 0 = empty). Built on
   * the first lookup: only the image layers under a container are ever searched.
   */
  table?: Int32Array;
}

export const ROOT_HASH = 0;
const TWO_21 = 2 ** 21;

/**
 * The hash of `name` inside the directory whose hash is `parent`: two FNV-1a lanes, 32 + 21 bits,
 * over the name's bytes. A name is bytes on Linux, not text: a string is taken as its UTF-8
 * encoding, and a name that is no UTF-8 must come as bytes (a Buffer), or two different names
 * would both decode to U+FFFD and become one path.
 */
export function childHash(parent: number, name: string | Uint8Array): number {
  if (typeof name !== 'string') return childHashBytes(parent, name, 0, name.length);
  let a = (Math.floor(parent / TWO_21) ^ 0x811c9dc5) >>> 0;
  let b = ((parent % TWO_21) ^ 0x01000193 ^ 0x5bd1e995) >>> 0;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    // Not ASCII: the char codes are not the bytes.
    if (c > 0x7f) return childHashBytes(parent, Buffer.from(name, 'utf8'), 0, Buffer.byteLength(name, 'utf8'));
    a = Math.imul(a ^ c, 16777619);
    b = Math.imul(b ^ c, 0x01000193 + 0x2b);
  }
  return mix(a, b);
}

/** childHash of the name whose bytes are bytes[start, end), without decoding them. */
export function childHashBytes(parent: number, bytes: Uint8Array, start: number, end: number): number {
  let a = (Math.floor(parent / TWO_21) ^ 0x811c9dc5) >>> 0;
  let b = ((parent % TWO_21) ^ 0x01000193 ^ 0x5bd1e995) >>> 0;
  for (let i = start; i < end; i++) {
    const c = bytes[i]!;
    a = Math.imul(a ^ c, 16777619);
    b = Math.imul(b ^ c, 0x01000193 + 0x2b);
  }
  return mix(a, b);
}

// Final avalanche so short names spread over the whole range.
function mix(a: number, b: number): number {
  a ^= a >>> 15;
  a = Math.imul(a, 0x2c1b3c6d);
  a ^= a >>> 12;
  b ^= b >>> 13;
  b = Math.imul(b, 0x297a2d39);
  b ^= b >>> 16;
  return (a >>> 0) * TWO_21 + ((b >>> 0) % TWO_21);
}

/** The hash of a path relative to a layer's root, given as text (UTF-8) or as the raw bytes. */
export function hashPath(path: string | Uint8Array): number {
  const bytes = typeof path === 'string' ? Buffer.from(path, 'utf8') : path;
  let h = ROOT_HASH;
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i < bytes.length && bytes[i] !== SLASH) continue;
    if (i > start) h = childHashBytes(h, bytes, start, i);
    start = i + 1;
  }
  return h;
}

const SLASH = 0x2f;

// Both FNV lanes fold into the slot, so tables past 2^21 slots still spread evenly. ToInt32 keeps
// the low 32 bits of each integer part, which is cheaper than taking the lanes apart exactly.
const slotOf = (hash: number, mask: number) => (hash ^ (hash / TWO_21)) & mask;

/** Twice as many slots as entries keeps probe runs short; 4 bytes a slot. */
function buildTable(hashes: Float64Array): Int32Array {
  let size = 16;
  while (size < hashes.length * 2) size *= 2;
  const table = new Int32Array(size);
  const mask = size - 1;
  for (let i = 0; i < hashes.length; i++) {
    let slot = slotOf(hashes[i]!, mask);
    while (table[slot] !== 0) slot = (slot + 1) & mask;
    table[slot] = i + 1;
  }
  return table;
}

/** The entry number of the path with this hash, or -1. */
export function find(index: PathIndex, hash: number): number {
  const table = (index.table ??= buildTable(index.hashes));
  const hashes = index.hashes;
  const mask = table.length - 1;
  for (let slot = slotOf(hash, mask); ; slot = (slot + 1) & mask) {
    const e = table[slot]!;
    if (e === 0) return -1;
    if (hashes[e - 1] === hash) return e - 1;
  }
}

/** The inode of entry `i` when it is a hardlinked non-directory, else 0. */
export function inoOf(index: PathIndex, i: number): number {
  const { linked, linkedInos } = index;
  let lo = 0;
  let hi = linked.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (linked[mid] === i) return linkedInos[mid]!;
    if (linked[mid]! < i) lo = mid + 1;
    else hi = mid - 1;
  }
  return 0;
}

export function entryOf(index: PathIndex, i: number): IndexEntry {
  const e: IndexEntry = { kind: KINDS[index.kinds[i]!]!, disk: index.disk[i]!, apparent: index.apparent[i]! };
  const ino = inoOf(index, i);
  if (ino) e.ino = ino;
  return e;
}

/** The entry at a path, for tests and diagnostics. */
export function entryAt(index: PathIndex, path: string | Uint8Array): IndexEntry | undefined {
  const i = find(index, hashPath(path));
  return i < 0 ? undefined : entryOf(index, i);
}

/**
 * Marks the directories at `paths` opaque, as a record of the layer (its tar's `.wh..wh..opq`
 * entries) says they are when their xattr cannot be read. Returns the paths the index lacks.
 */
export function markOpaque(index: PathIndex, paths: Iterable<string | Buffer>): Array<string | Buffer> {
  const missing: Array<string | Buffer> = [];
  for (const p of paths) {
    const i = find(index, hashPath(p));
    if (i >= 0 && (index.kinds[i] === KIND.dir || index.kinds[i] === KIND.opaque)) index.kinds[i] = KIND.opaque;
    else missing.push(p);
  }
  return missing;
}
