// A minimal bbolt writer for literal test files: the whole tree in one leaf root page (with
// overflow pages as needed), every nested bucket inline in its parent's value. Enough for
// collectors/lib/bbolt.ts to read; not a file bbolt itself would write for big buckets.

/** A bucket: values are strings (UTF-8) or raw bytes, nested objects are buckets. */
export interface Tree {
  [key: string]: string | Buffer | Tree;
}

const PS = 4096;
const LEAF = 0x02;
const BUCKET_FLAG = 0x01;

function fnv1a64(bytes: Buffer): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h;
}

/** A leaf page (header, elements, data) of `tree`'s entries, in key order. */
function leaf(tree: Tree, pgid: number): Buffer {
  const entries = Object.entries(tree)
    .map(([k, v]) => ({ key: Buffer.from(k, 'latin1'), v }))
    .sort((a, b) => Buffer.compare(a.key, b.key));
  const values = entries.map(({ v }) => (typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.isBuffer(v) ? v : inlineBucket(v)));
  const head = Buffer.alloc(16 + entries.length * 16);
  head.writeBigUInt64LE(BigInt(pgid), 0);
  head.writeUInt16LE(LEAF, 8);
  head.writeUInt16LE(entries.length, 10);
  const data: Buffer[] = [];
  let at = head.length;
  entries.forEach(({ key, v }, i) => {
    const e = 16 + i * 16;
    head.writeUInt32LE(typeof v === 'string' || Buffer.isBuffer(v) ? 0 : BUCKET_FLAG, e);
    head.writeUInt32LE(at - e, e + 4);
    head.writeUInt32LE(key.length, e + 8);
    head.writeUInt32LE(values[i]!.length, e + 12);
    data.push(key, values[i]!);
    at += key.length + values[i]!.length;
  });
  return Buffer.concat([head, ...data]);
}

function inlineBucket(tree: Tree): Buffer {
  return Buffer.concat([Buffer.alloc(16), leaf(tree, 0)]); // root 0 = inline, sequence 0
}

export function metaPage(pgid: number, root: number, highWater: number, txid: number): Buffer {
  const page = Buffer.alloc(PS);
  page.writeBigUInt64LE(BigInt(pgid), 0);
  page.writeUInt16LE(0x04, 8);
  const m = 16;
  page.writeUInt32LE(0xed0cdaed, m);
  page.writeUInt32LE(2, m + 4);
  page.writeUInt32LE(PS, m + 8);
  page.writeBigUInt64LE(BigInt(root), m + 16);
  page.writeBigUInt64LE(0xffffffffffffffffn, m + 32);
  page.writeBigUInt64LE(BigInt(highWater), m + 40);
  page.writeBigUInt64LE(BigInt(txid), m + 48);
  page.writeBigUInt64LE(fnv1a64(page.subarray(m, m + 56)), m + 56);
  return page;
}

/** A bbolt file holding `tree` as its root bucket. */
export function boltFile(tree: Tree): Buffer {
  const root = leaf(tree, 2);
  const pages = Math.ceil(root.length / PS);
  const body = Buffer.alloc(pages * PS);
  root.copy(body);
  body.writeUInt32LE(pages - 1, 12); // overflow
  return Buffer.concat([metaPage(0, 2, 2 + pages, 2), metaPage(1, 2, 2 + pages, 1), body]);
}

/** Go's binary.PutVarint. */
export function varint(n: number): Buffer {
  return uvarint(n >= 0 ? n * 2 : -n * 2 - 1);
}

/** Go's binary.PutUvarint. */
export function uvarint(n: number): Buffer {
  let z = BigInt(n);
  const out: number[] = [];
  while (z >= 0x80n) {
    out.push(Number(z & 0x7fn) | 0x80);
    z >>= 7n;
  }
  out.push(Number(z));
  return Buffer.from(out);
}

/** Go's time.MarshalBinary (version 1, UTC) of an ISO instant with whole milliseconds. */
export function goTime(iso: string): Buffer {
  const ms = BigInt(Date.parse(iso));
  const b = Buffer.alloc(15);
  b[0] = 1;
  b.writeBigInt64BE(ms / 1000n + 62135596800n, 1);
  b.writeUInt32BE(Number(ms % 1000n) * 1_000_000, 9);
  b.writeInt16BE(-1, 13);
  return b;
}
