// The containerd fixtures (test/fixtures/containerd/, see its README) and the ways the unit tests
// damage copies of them: flipped bytes, and copies torn between the two versions each file holds
// (bbolt keeps the previous transaction's tree intact beside the current one).
import { readFileSync } from 'node:fs';
import type { Problem } from '../../collectors/lib/facts.js';
import { describePath } from '../../collectors/stores/containerd/bolt-tree.js';
import type { MetaDb } from '../../collectors/stores/containerd/meta-db.js';
import type { BoltFileIo } from '../../collectors/stores/containerd/read-bolt.js';
import type { SnapshotsDb } from '../../collectors/stores/containerd/snapshots-db.js';

const FIXTURES = new URL('../../../test/fixtures/containerd/', import.meta.url);
export const fixture = (name: string): Buffer => readFileSync(new URL(name, FIXTURES));

export interface Expected {
  ctr: {
    namespaces: string[];
    images: Array<{ ref: string; mediaType: string; digest: string }>;
    snapshots: Array<{ key: string; parent: string | null; kind: string }>;
    content: string[];
    leases: Array<{ id: string; labels: Record<string, string> }>;
  };
  images: Array<{
    tag: string;
    id: string;
    diffIds: string[];
    chainIds: string[];
    manifest: { mediaType: string; config: { digest: string; size: number }; layers: Array<{ digest: string; size: number }> };
  }>;
  containers: Array<{ name: string; id: string; snapshotId: string }>;
  disk: {
    snapshotDirs: Record<string, { du: number; entries: number }>;
    blobs: Record<string, { size: number; disk: number }>;
  };
}

export const expected = JSON.parse(fixture('expected.json').toString('utf8')) as Expected;

/** A copy with every `step`th byte from `from` inverted (XOR 0xff). */
export function flipped(buf: Buffer, step: number, from: number): Buffer {
  const out = Buffer.from(buf);
  for (let i = from; i < out.length; i += step) out[i] = out[i]! ^ 0xff;
  return out;
}

const PS = 4096;

function meta(buf: Buffer, page: number): { root: number; txid: bigint } {
  const m = page * PS + 16;
  return { root: Number(buf.readBigUInt64LE(m + 16)), txid: buf.readBigUInt64LE(m + 48) };
}

/** The pages a page points at, by key: a branch's children, a leaf's buckets that have a root page. */
function pointers(buf: Buffer, id: number): Map<string, number> {
  const off = id * PS;
  const flags = buf.readUInt16LE(off + 8);
  const out = new Map<string, number>();
  for (let i = 0; i < buf.readUInt16LE(off + 10); i++) {
    const e = off + 16 + i * 16;
    if (flags === 0x01) {
      const key = buf.subarray(e + buf.readUInt32LE(e), e + buf.readUInt32LE(e) + buf.readUInt32LE(e + 4));
      out.set(key.toString('latin1'), Number(buf.readBigUInt64LE(e + 8)));
    } else if (buf.readUInt32LE(e) & 1) {
      const start = e + buf.readUInt32LE(e + 4);
      const ksize = buf.readUInt32LE(e + 8);
      const root = Number(buf.readBigUInt64LE(start + ksize));
      if (root !== 0) out.set(buf.subarray(start, start + ksize).toString('latin1'), root);
    }
  }
  return out;
}

/**
 * Each page the newest transaction wrote, with the page of the version before it that it replaced
 * (same place in the tree), top-down from the roots of the two meta pages.
 */
export function supersededPages(buf: Buffer): Array<[newer: number, older: number]> {
  const [a, b] = [meta(buf, 0), meta(buf, 1)];
  const [newer, older] = a.txid > b.txid ? [a, b] : [b, a];
  const pairs: Array<[number, number]> = [];
  const pair = (n: number, o: number): void => {
    if (n === o) return;
    pairs.push([n, o]);
    const old = pointers(buf, o);
    for (const [key, child] of pointers(buf, n)) {
      const was = old.get(key);
      if (was !== undefined) pair(child, was);
    }
  };
  pair(newer.root, older.root);
  return pairs;
}

/**
 * A copy as a reader gets it when a commit lands while it reads: the newest meta page, but the
 * pages `stale` picks (of those the newest transaction wrote) as they were before it. `as`
 * 'older' puts there the page they replaced (bbolt writes a page's own id in it: a stale page
 * looks right), 'zeros' what a page not yet written holds.
 */
export function torn(buf: Buffer, stale: (page: number) => boolean, as: 'older' | 'zeros'): Buffer {
  const out = Buffer.from(buf);
  for (const [n, o] of supersededPages(buf)) {
    if (!stale(n)) continue;
    if (as === 'zeros') out.fill(0, n * PS, (n + 1) * PS);
    else {
      buf.copy(out, n * PS, o * PS, (o + 1) * PS);
      out.writeBigUInt64LE(BigInt(n), n * PS);
    }
  }
  return out;
}

/** A record of a parse, its bucket path (raw keys, as describePath takes them) and its fields. */
export interface Flat {
  path: string[];
  fields: unknown;
}

export const raw = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');

/** Maps as sorted entry lists and timestamps left out, so that records compare with deepEqual. */
export function comparable(record: object): unknown {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) {
    if (k === 'createdAt' || k === 'expireAt') continue;
    out[k] = v instanceof Map ? [...v.entries()].sort() : Array.isArray(v) ? [...v].sort() : v;
  }
  return out;
}

/** Messages that say a bucket's own bytes are wrong, and so everything beneath it. */
const STRUCTURAL = /unreadable|keys out of order|entries overlap|cannot be found|inconsistent/;

/**
 * Whether a problem stands beside the record at `path`: one naming the record or a bucket inside
 * it, or one saying that a bucket above it is corrupt. A problem about a sibling (a skipped key
 * in the same collection) does not count.
 */
export function besideProblem(problems: Problem[], source: string, path: string[]): boolean {
  const own = describePath(source, path);
  const inner = (p: string) => (p === source ? '' : p.slice(source.length + 2, -1));
  const mine = inner(own);
  return problems.some((p) => {
    if (p.path === null || (p.path !== source && !p.path.startsWith(`${source} [`))) return false;
    const theirs = inner(p.path);
    if (theirs === mine || theirs.startsWith(`${mine}/`)) return true;
    return (theirs === '' || mine.startsWith(`${theirs}/`)) && STRUCTURAL.test(p.message);
  });
}

/**
 * The claim the corruption tests make: every record of `damaged` either is in `intact` with the
 * same fields (timestamps aside: any 8 bytes are some instant) or has a problem beside it.
 * Returns the records that break it, for the assertion message.
 */
export function unflagged(intact: Flat[], damaged: Flat[], problems: Problem[], source: string): string[] {
  const byPath = new Map(intact.map((r) => [JSON.stringify(r.path), r]));
  const out: string[] = [];
  for (const r of damaged) {
    const twin = byPath.get(JSON.stringify(r.path));
    const same = twin !== undefined && JSON.stringify(twin.fields) === JSON.stringify(r.fields);
    if (!same && !besideProblem(problems, source, r.path)) out.push(`${describePath(source, r.path)}: ${JSON.stringify(r.fields)}`);
  }
  return out;
}

/** Every record of a meta.db parse, at its bucket path. */
export function flatMeta(meta: MetaDb): Flat[] {
  const out: Flat[] = [];
  const add = (path: string[], record: object) => out.push({ path: ['v1', ...path].map(raw), fields: comparable(record) });
  for (const [ns, n] of meta.namespaces) {
    for (const [k, r] of n.images) add([ns, 'images', k], r);
    for (const [k, r] of n.blobs) add([ns, 'content', 'blob', k], r);
    for (const [k, r] of n.ingests) add([ns, 'content', 'ingests', k], r);
    for (const [s, byKey] of n.snapshots) for (const [k, r] of byKey) add([ns, 'snapshots', s, k], r);
    for (const [k, r] of n.leases) add([ns, 'leases', k], r);
    for (const [k, r] of n.containers) add([ns, 'containers', k], r);
  }
  return out;
}

/** Every record of a metadata.db parse, at its bucket path. */
export function flatSnapshots(db: SnapshotsDb): Flat[] {
  return [...db.snapshots].map(([k, r]) => ({ path: ['v1', 'snapshots', k].map(raw), fields: comparable(r) }));
}

/** The file as of the transaction before its last: the newest meta page made invalid. */
export function previousVersion(buf: Buffer): Buffer {
  const out = Buffer.from(buf);
  const newest = meta(buf, 0).txid > meta(buf, 1).txid ? 0 : 1;
  out[newest * PS + 16 + 56] = out[newest * PS + 16 + 56]! ^ 0xff; // its checksum
  return out;
}

/** What readBoltFile needs of a file that holds `buf` and never changes. */
export function unchangingFile(buf: Buffer): BoltFileIo {
  const stamp = { size: BigInt(buf.length), mtimeNs: 1n, ctimeNs: 1n, ino: 1n, dev: 1n };
  return {
    stat: async () => stamp,
    readFile: async () => Buffer.from(buf),
    readHead: async (_path, length) => Buffer.from(buf.subarray(0, length)),
    pause: async () => {},
  };
}
