// A small, pure, read-only reader of bbolt files (the format of go.etcd.io/bbolt, which BuildKit
// uses for its cache metadata). No maintained npm package reads bbolt, and dockerd keeps these files
// open and mmapped, so we only ever parse a copy held in a Buffer: no locks, no writes.
//
// Layout (little-endian): every page starts with {id u64, flags u16, count u16, overflow u32}; a page
// spans (1 + overflow) * pageSize bytes. Pages 0 and 1 are metas; the valid one with the higher txid
// is current. Element positions are relative to the element's own address. Every offset below is
// checked, because the file may be torn (read while dockerd commits) or corrupt: we must throw, never
// read past the end or loop.

const PAGE_HEADER = 16;
const ELEMENT_SIZE = 16; // branch {pos, ksize, pgid} and leaf {flags, pos, ksize, vsize} alike
const BUCKET_HEADER = 16; // {root pgid u64, sequence u64}
const META_SIZE = 64;
const META_CHECKSUMMED = 56; // the checksum covers the meta up to the checksum field itself
const MAGIC = 0xed0cdaed;
const VERSION = 2;
const BRANCH_PAGE = 0x01;
const LEAF_PAGE = 0x02;
const META_PAGE = 0x04;
const BUCKET_LEAF_FLAG = 0x01;
/** Tree depth plus bucket nesting; real files stay in single digits. */
const MAX_DEPTH = 64;
/** Where meta 1 may sit when meta 0 is unreadable and so cannot tell us the page size. */
const PAGE_SIZE_GUESSES = [4096, 8192, 16384, 32768, 65536, 512, 1024, 2048];

export interface BoltMeta {
  /** Which meta page (0 or 1) is current. */
  page: 0 | 1;
  pageSize: number;
  flags: number;
  rootPgid: number;
  /** 2^64-1 when the freelist is not synced to disk. */
  freelistPgid: bigint;
  /** The high-water mark: the first page id past the end of the data. */
  highWater: number;
  txid: bigint;
}

export interface BoltDb {
  buf: Buffer;
  meta: BoltMeta;
}

export interface BoltEntry {
  key: Buffer;
  /** null when the entry is a nested bucket. */
  value: Buffer | null;
  /**
   * A nested bucket's place in the file: the byte offset of its root page, or of its inline page
   * in this entry's value. Two buckets at one place share their bytes: the file is corrupt.
   */
  at?: number;
}

/** `bucketPath` is the chain of bucket names holding `key`; `value` null means `key` is a bucket. */
export type BoltVisitor = (bucketPath: Buffer[], key: Buffer, value: Buffer | null) => void;

/** A plain Error: nothing catches a bbolt failure by type, it is reported and the scan goes on. */
function boltError(message: string): Error {
  return new Error(`bbolt: ${message}`);
}

function fnv1a64(bytes: Buffer): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h;
}

function u64(buf: Buffer, off: number, what: string): number {
  const v = buf.readBigUInt64LE(off);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw boltError(`${what} ${v} is out of range`);
  return Number(v);
}

/** The meta at `off`, or why it is not usable in a file of `buf.length` bytes. */
function readMeta(buf: Buffer, off: number, page: 0 | 1): BoltMeta | string {
  if (off + PAGE_HEADER + META_SIZE > buf.length) return `meta ${page} lies past the end of the file`;
  const flags = buf.readUInt16LE(off + 8);
  if (flags !== META_PAGE) return `meta ${page} has page flags 0x${flags.toString(16)}`;
  const m = off + PAGE_HEADER;
  if (buf.readUInt32LE(m) !== MAGIC) return `meta ${page} has a bad magic`;
  const version = buf.readUInt32LE(m + 4);
  if (version !== VERSION) return `meta ${page} has version ${version}, expected ${VERSION}`;
  if (buf.readBigUInt64LE(m + META_CHECKSUMMED) !== fnv1a64(buf.subarray(m, m + META_CHECKSUMMED))) {
    return `meta ${page} fails its checksum`;
  }
  const pageSize = buf.readUInt32LE(m + 8);
  // A power of two large enough for a page header, a meta and some elements; anything else is corrupt.
  if (pageSize < 512 || pageSize > 1 << 20 || (pageSize & (pageSize - 1)) !== 0) {
    return `meta ${page} has an impossible page size ${pageSize}`;
  }
  const root = buf.readBigUInt64LE(m + 16);
  const highWater = buf.readBigUInt64LE(m + 40);
  if (highWater * BigInt(pageSize) > BigInt(buf.length)) {
    return `file is truncated: ${buf.length} bytes, but meta ${page} uses ${highWater} pages of ${pageSize}`;
  }
  if (root < 2n || root >= highWater) return `meta ${page} has root page ${root} outside 2..${highWater - 1n}`;
  return {
    page,
    pageSize,
    flags: buf.readUInt32LE(m + 12),
    rootPgid: Number(root),
    freelistPgid: buf.readBigUInt64LE(m + 32),
    highWater: Number(highWater),
    txid: buf.readBigUInt64LE(m + 48),
  };
}

/** Validates both metas and keeps the current one; throws when neither is usable. */
export function parseBolt(buf: Buffer): BoltDb {
  const meta0 = readMeta(buf, 0, 0);
  const offsets = typeof meta0 === 'string' ? PAGE_SIZE_GUESSES : [meta0.pageSize];
  let meta1: BoltMeta | string | null = null;
  for (const off of offsets) {
    let m = readMeta(buf, off, 1);
    if (typeof m !== 'string' && m.pageSize !== off) m = `meta 1 at ${off} says the page size is ${m.pageSize}`;
    // Report why the likeliest position failed, not the last guess.
    if (typeof m !== 'string' || meta1 === null) meta1 = m;
    if (typeof m !== 'string') break;
  }
  const usable = [meta0, meta1].filter((m): m is BoltMeta => m !== null && typeof m !== 'string');
  const best = usable.sort((a, b) => (a.txid > b.txid ? -1 : a.txid < b.txid ? 1 : 0))[0];
  if (best === undefined) throw boltError(`no valid meta page (${meta0}; ${meta1})`);
  return { buf, meta: best };
}

interface BucketRef {
  root: number;
  /** The page of an inline bucket (root 0), stored inside its parent's value. */
  inline: Buffer | null;
}

interface WalkState {
  /** Each page belongs to exactly one tree, so seeing one twice means a cycle. */
  visited: Set<number>;
  /** Likewise each inline bucket's page (by its offset in the file): entries that share one fan out. */
  inlines: Set<number>;
}

const newState = (): WalkState => ({ visited: new Set(), inlines: new Set() });

/** Where a bucket's root lies in the file (see BoltEntry.at). */
function placeOf(db: BoltDb, ref: BucketRef): number {
  return ref.inline === null ? ref.root * db.meta.pageSize : ref.inline.byteOffset - db.buf.byteOffset;
}

function bucketRef(value: Buffer, where: string): BucketRef {
  if (value.length < BUCKET_HEADER) throw boltError(`bucket header of ${where} is ${value.length} bytes`);
  const root = u64(value, 0, `root page of bucket ${where}`);
  if (root !== 0) return { root, inline: null };
  const inline = value.subarray(BUCKET_HEADER);
  if (inline.length < PAGE_HEADER) throw boltError(`inline bucket ${where} is too short`);
  return { root: 0, inline };
}

function pageAt(db: BoltDb, pgid: number): Buffer {
  const { pageSize, highWater } = db.meta;
  if (pgid < 2 || pgid >= highWater) throw boltError(`page id ${pgid} outside 2..${highWater - 1}`);
  const off = pgid * pageSize;
  const id = db.buf.readBigUInt64LE(off);
  if (id !== BigInt(pgid)) throw boltError(`page ${pgid} says it is page ${id}`);
  const overflow = db.buf.readUInt32LE(off + 12);
  if (pgid + overflow >= highWater) throw boltError(`page ${pgid} overflows past the high-water mark`);
  return db.buf.subarray(off, off + (1 + overflow) * pageSize);
}

/** Calls `each(elementOffset)` for every element, after checking the element array fits. */
function elements(page: Buffer, where: string, each: (off: number) => void): void {
  const count = page.readUInt16LE(10);
  if (PAGE_HEADER + count * ELEMENT_SIZE > page.length) {
    throw boltError(`${where}: ${count} elements do not fit in ${page.length} bytes`);
  }
  for (let i = 0; i < count; i++) each(PAGE_HEADER + i * ELEMENT_SIZE);
}

function slice(page: Buffer, start: number, len: number, where: string): Buffer {
  if (start + len > page.length) throw boltError(`${where}: element data runs past the page`);
  return page.subarray(start, start + len);
}

function forEachLeaf(page: Buffer, where: string, cb: (key: Buffer, value: Buffer, isBucket: boolean) => void) {
  elements(page, where, (e) => {
    const flags = page.readUInt32LE(e);
    const start = e + page.readUInt32LE(e + 4);
    const ksize = page.readUInt32LE(e + 8);
    const vsize = page.readUInt32LE(e + 12);
    const key = slice(page, start, ksize, where);
    const value = slice(page, start + ksize, vsize, where);
    cb(key, value, (flags & BUCKET_LEAF_FLAG) !== 0);
  });
}

function forEachInPage(
  db: BoltDb,
  pgid: number,
  state: WalkState,
  depth: number,
  cb: (key: Buffer, value: Buffer, isBucket: boolean) => void,
): void {
  if (depth > MAX_DEPTH) throw boltError(`tree deeper than ${MAX_DEPTH} at page ${pgid}`);
  if (state.visited.has(pgid)) throw boltError(`page ${pgid} is reached twice (a cycle)`);
  state.visited.add(pgid);
  const page = pageAt(db, pgid);
  const flags = page.readUInt16LE(8);
  const where = `page ${pgid}`;
  if (flags === LEAF_PAGE) return forEachLeaf(page, where, cb);
  if (flags !== BRANCH_PAGE) throw boltError(`${where} has flags 0x${flags.toString(16)}, expected a tree page`);
  elements(page, where, (e) => forEachInPage(db, u64(page, e + 8, `child of ${where}`), state, depth + 1, cb));
}

function forEachEntry(
  db: BoltDb,
  ref: BucketRef,
  state: WalkState,
  depth: number,
  cb: (key: Buffer, value: Buffer, isBucket: boolean) => void,
): void {
  if (ref.inline === null) return forEachInPage(db, ref.root, state, depth, cb);
  const at = placeOf(db, ref);
  if (state.inlines.has(at)) throw boltError(`the inline bucket at byte ${at} is reached twice (entries share it)`);
  state.inlines.add(at);
  const flags = ref.inline.readUInt16LE(8);
  // bbolt only inlines buckets small enough to be a single leaf.
  if (flags !== LEAF_PAGE) throw boltError(`inline bucket page has flags 0x${flags.toString(16)}`);
  forEachLeaf(ref.inline, 'inline bucket', cb);
}

function rootRef(db: BoltDb): BucketRef {
  return { root: db.meta.rootPgid, inline: null };
}

function describe(path: Buffer[]): string {
  return path.length === 0 ? '(root)' : path.map((p) => JSON.stringify(p.toString('latin1'))).join('/');
}

/** Depth-first over every bucket and key, in key order; nested buckets are visited before their contents. */
export function walk(db: BoltDb, visit: BoltVisitor): void {
  const state = newState();
  const inBucket = (ref: BucketRef, path: Buffer[], depth: number): void => {
    if (path.length > MAX_DEPTH) throw boltError(`buckets nested deeper than ${MAX_DEPTH}`);
    forEachEntry(db, ref, state, depth, (key, value, isBucket) => {
      if (!isBucket) return visit(path, key, value);
      visit(path, key, null);
      const sub = [...path, key];
      inBucket(bucketRef(value, describe(sub)), sub, depth + 1);
    });
  };
  inBucket(rootRef(db), [], 0);
}

function findBucket(db: BoltDb, ref: BucketRef, name: Buffer, state: WalkState, depth: number): BucketRef | null {
  const found: BucketRef[] = [];
  forEachEntry(db, ref, state, depth, (key, value, isBucket) => {
    if (found.length === 0 && isBucket && key.equals(name)) found.push(bucketRef(value, name.toString('latin1')));
  });
  return found[0] ?? null;
}

/** The entries of the bucket at `path` ([] = the root bucket), or null when there is no such bucket. */
export function bucketEntries(db: BoltDb, path: ReadonlyArray<string | Buffer>): BoltEntry[] | null {
  const state = newState();
  let ref: BucketRef | null = rootRef(db);
  for (const [depth, name] of path.entries()) {
    ref = findBucket(db, ref, Buffer.from(name), state, depth);
    if (ref === null) return null;
  }
  const out: BoltEntry[] = [];
  forEachEntry(db, ref, state, path.length, (key, value, isBucket) =>
    out.push(isBucket ? { key, value: null, at: placeOf(db, bucketRef(value, key.toString('latin1'))) } : { key, value }),
  );
  return out;
}

/** Names of the nested buckets in the bucket at `path` ([] = top level); null when it does not exist. */
export function bucketNames(db: BoltDb, path: ReadonlyArray<string | Buffer> = []): string[] | null {
  const entries = bucketEntries(db, path);
  return entries === null ? null : entries.filter((e) => e.value === null).map((e) => e.key.toString('utf8'));
}
