// A bbolt file as a tree of Maps, for the containerd parsers to read fields from. walk() reads the
// whole file in one pass but stops at the first broken page; then every bucket is read on its own
// (bucketEntries), so that a broken page costs the buckets under it and no more. That fallback
// re-reads each bucket's ancestors, so it is quadratic in the widest bucket: acceptable for the
// rare corrupt file, and the healthy one pays one pass.
//
// bbolt keeps no checksum on data pages, so the structure is all we can check: keys must be
// unique and in order within a bucket, and no two entries may claim the same bytes (a corrupt
// size runs into a neighbour, a corrupt page id points at another bucket's page). Each breach is
// a problem naming the bucket.
import { isUtf8 } from 'node:buffer';
import { bucketEntries, walk, type BoltDb } from '../../lib/bbolt.js';
import type { Problem } from '../../lib/facts.js';

export interface BoltNode {
  /** Plain keys, by the key's bytes read as latin1 (lossless; keyText decodes them). */
  values: Map<string, Buffer>;
  buckets: Map<string, BoltNode>;
  /** Its entries could not be listed (a problem says why): an empty node, not an empty bucket. */
  broken: boolean;
}

/** Where problems go, and the name of the file they are in. */
export interface ParseContext {
  source: string;
  problems: Problem[];
}

/**
 * Bytes as the text containerd wrote: UTF-8 (Go strings from names, digests and labels), and
 * never a NUL, which no name holds but the zeroed end of a page does, when a corrupt size reaches it.
 */
export function textOf(bytes: Buffer): string | null {
  return isUtf8(bytes) && !bytes.includes(0) ? bytes.toString('utf8') : null;
}

/** A raw (latin1) key as text, or null (see textOf). */
export function keyText(raw: string): string | null {
  return textOf(Buffer.from(raw, 'latin1'));
}

const PLAIN = /^[\x21-\x7e]+$/;

/**
 * `meta.db [v1/moby/images/"docker.io/library/base:latest"]`: keys that hold a slash, a quote,
 * a space or nothing are quoted, keys that are not UTF-8 shown in hex, so the path reads back.
 */
export function describePath(source: string, path: readonly string[]): string {
  if (path.length === 0) return source;
  const parts = path.map((raw) => {
    const text = keyText(raw);
    if (text === null) return `0x${Buffer.from(raw, 'latin1').toString('hex')}`;
    return PLAIN.test(text) && !text.includes('/') && !text.includes('"') ? text : JSON.stringify(text);
  });
  return `${source} [${parts.join('/')}]`;
}

export function report(ctx: ParseContext, path: readonly string[], message: string): void {
  ctx.problems.push({ path: describePath(ctx.source, path), message });
}

/** The error's message, its bytes of corrupt names escaped so that a log line stays one line of text. */
function message(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/[^\x20-\x7e]/g, (c) => {
    const code = c.charCodeAt(0);
    return code > 0xff ? `\\u${code.toString(16).padStart(4, '0')}` : `\\x${code.toString(16).padStart(2, '0')}`;
  });
}

const emptyNode = (): BoltNode => ({ values: new Map(), buckets: new Map(), broken: false });

interface Region {
  start: number;
  end: number;
  bucket: readonly string[];
}

/** Adds a bucket's entries, checking their order and that no two claim the same bytes. */
class TreeBuilder {
  /** Every key and value, as offsets into the file's buffer, and the bucket (its one path array). */
  private readonly regions: Region[] = [];
  private readonly disordered = new Set<readonly string[]>();
  failures = 0;

  constructor(private readonly ctx: ParseContext) {}

  /** Returns the node for a nested bucket (detached when it repeats a key), null for a value. */
  add(node: BoltNode, path: readonly string[], last: Buffer | null, key: Buffer, value: Buffer | null): BoltNode | null {
    const order = last === null ? -1 : Buffer.compare(last, key);
    if (order >= 0) {
      if (!this.disordered.has(path)) report(this.ctx, path, 'keys out of order or repeated: the bucket is corrupt');
      this.disordered.add(path);
      this.failures++;
    }
    this.regions.push({ start: key.byteOffset, end: key.byteOffset + key.length, bucket: path });
    // A nested bucket's value holds its header and maybe its whole (inline) page: not a region.
    if (value !== null && value.length > 0) {
      this.regions.push({ start: value.byteOffset, end: value.byteOffset + value.length, bucket: path });
    }
    // A repeated key keeps its first entry; a repeated bucket's contents go nowhere.
    const name = key.toString('latin1');
    const keep = order !== 0;
    if (value !== null) {
      if (keep) node.values.set(name, value);
      return null;
    }
    const child = emptyNode();
    if (keep) node.buckets.set(name, child);
    return child;
  }

  /**
   * bbolt lays each key and value out once, apart from all others; an overlap is a size or offset
   * that a flipped bit made point into a neighbour, or two buckets sharing one page.
   */
  checkOverlaps(): void {
    const named = new Set<readonly string[]>();
    const name = (bucket: readonly string[], other: readonly string[]) => {
      if (named.has(bucket)) return;
      named.add(bucket);
      this.failures++;
      const also = other === bucket ? '' : ` and ${describePath(this.ctx.source, other)}`;
      report(this.ctx, bucket, `entries overlap in the file${also}: a size or page id is corrupt`);
    };
    this.regions.sort((a, b) => a.start - b.start);
    let reach: Region | null = null;
    for (const r of this.regions) {
      if (reach !== null && r.start < reach.end) {
        name(r.bucket, reach.bucket);
        name(reach.bucket, r.bucket);
      }
      if (reach === null || r.end > reach.end) reach = r;
    }
  }
}

interface Open {
  node: BoltNode;
  path: string[];
  last: Buffer | null;
}

function fromWalk(db: BoltDb, builder: TreeBuilder): BoltNode {
  const root = emptyNode();
  // walk() is depth-first, a bucket's contents right after its key: the bucket that holds an
  // entry at depth d is the last one opened at depth d.
  const open: Open[] = [{ node: root, path: [], last: null }];
  walk(db, (bucketPath, key, value) => {
    const level = open[bucketPath.length];
    if (level === undefined) throw new Error('bbolt walk skipped a level');
    const child = builder.add(level.node, level.path, level.last, key, value);
    level.last = key;
    if (child !== null) open[bucketPath.length + 1] = { node: child, path: [...level.path, key.toString('latin1')], last: null };
  });
  return root;
}

function fromBuckets(db: BoltDb, builder: TreeBuilder, ctx: ParseContext): BoltNode {
  // Each bucket has its own bytes: buckets at one place (a corrupt page id or offset) would be read
  // again under each other, and a chain of them would fan out without end.
  const places = new Set<number>();
  const read = (node: BoltNode, raw: Buffer[], path: string[]): void => {
    let entries;
    try {
      entries = bucketEntries(db, raw);
    } catch (err) {
      builder.failures++;
      node.broken = true;
      report(ctx, path, `unreadable: ${message(err)}`);
      return;
    }
    if (entries === null) {
      builder.failures++;
      node.broken = true;
      report(ctx, path, 'its parent lists it but it cannot be found');
      return;
    }
    let last: Buffer | null = null;
    for (const e of entries) {
      const child = builder.add(node, path, last, e.key, e.value);
      last = e.key;
      if (child === null) continue;
      const childPath = [...path, e.key.toString('latin1')];
      if (e.at !== undefined && places.has(e.at)) {
        builder.failures++;
        child.broken = true;
        report(ctx, childPath, `unreadable: another bucket lies at its place in the file (byte ${e.at}): a page id or offset is corrupt`);
        continue;
      }
      if (e.at !== undefined) places.add(e.at);
      read(child, [...raw, e.key], childPath);
    }
  };
  const root = emptyNode();
  read(root, [], []);
  return root;
}

/** The whole file as a tree; what cannot be read is left out, each part named in `problems`. */
export function parseTree(db: BoltDb, ctx: ParseContext): BoltNode {
  const firstPass: Problem[] = [];
  try {
    const builder = new TreeBuilder({ ...ctx, problems: firstPass });
    const root = fromWalk(db, builder);
    builder.checkOverlaps();
    ctx.problems.push(...firstPass);
    return root;
  } catch (err) {
    // The second pass meets the first one's problems again, each next to the buckets it cost.
    const builder = new TreeBuilder(ctx);
    const root = fromBuckets(db, builder, ctx);
    builder.checkOverlaps();
    if (builder.failures === 0) report(ctx, [], `inconsistent, though each bucket reads on its own: ${message(err)}`);
    return root;
  }
}
