// Building a layer's path index (path-index.ts) as a walk meets its entries: in chunks, never
// copying a full one, handed over from a walker process as they fill, and finished a column at a
// time. Also an index made from a list of paths (tests, fixtures).
import type { EntryKind, IndexEntry } from './facts.js';
import { hashPath, KIND, type PathIndex } from './path-index.js';

/** Entries a chunk of the builder holds (64k): 1.8 MiB of columns. */
export const INDEX_CHUNK_BITS = 16;
export const INDEX_CHUNK = 1 << INDEX_CHUNK_BITS;
/** The first chunk starts this small and doubles up to INDEX_CHUNK: most trees are small. */
const FIRST_CHUNK = 256;

/** A run of consecutive entries, column by column, every column as long as the run. */
export interface IndexChunk {
  hashes: Float64Array;
  parents: Int32Array;
  kinds: Uint8Array;
  disk: Float64Array;
  apparent: Float64Array;
}

/** What a streaming builder (one with a sink) ends with, besides its chunks: how many entries, and the hardlinked ones. */
export interface IndexTail {
  count: number;
  linked: Int32Array;
  linkedInos: Float64Array;
}

const COLUMNS = ['hashes', 'parents', 'kinds', 'disk', 'apparent'] as const;
/** The order finish() copies them in: the 8-byte ones first, each followed by `collect` (big indexes). */
const BY_SIZE = ['hashes', 'disk', 'apparent', 'parents', 'kinds'] as const;
/** From this many chunks (512k entries, 14.5 MiB) finish() calls `collect` after each big column. */
const COLLECT_FROM = 8;

function newChunk(size: number): IndexChunk {
  return { hashes: new Float64Array(size), parents: new Int32Array(size), kinds: new Uint8Array(size), disk: new Float64Array(size), apparent: new Float64Array(size) };
}

/**
 * Collects a walk's entries in chunks of INDEX_CHUNK entries, never copying one that is full, so
 * that a big tree costs its entries' bytes and one chunk more while it is walked (doubling arrays
 * cost 3× at a grow). `finish()` copies the chunks into one array a column at a time, letting go
 * of each column's chunks once copied (and, for a big index, collecting them): about 1.3× the
 * index at the end, not 2×.
 *
 * With a `sink` (a walker process) each full chunk is handed over as it fills and not kept, and
 * `end()` hands over the last; another builder `append`s them in order and finishes the index.
 * Entries are only added, and a parent's entry number is always an earlier entry's.
 */
export class PathIndexBuilder {
  private n = 0;
  /** Entry number of chunks[0]'s first entry: the entries before it went to the sink. A multiple of INDEX_CHUNK. */
  private base = 0;
  private readonly chunks: IndexChunk[] = [];
  /** The chunk entries are added to (the last of chunks), or null when that one is full. */
  private open: IndexChunk | null = null;
  private readonly linked: number[] = [];
  private readonly linkedInos: number[] = [];

  constructor(private readonly sink: ((chunk: IndexChunk) => void) | null = null) {}

  get count(): number {
    return this.n;
  }

  add(hash: number, parent: number, kind: EntryKind, disk: number, apparent: number, ino = 0): number {
    const i = this.n;
    const j = i & (INDEX_CHUNK - 1);
    let c = this.open;
    if (c === null || j === c.hashes.length) c = this.room(j);
    c.hashes[j] = hash;
    c.parents[j] = parent;
    c.kinds[j] = KIND[kind];
    c.disk[j] = disk;
    c.apparent[j] = apparent;
    this.n = i + 1;
    if (ino !== 0) {
      this.linked.push(i);
      this.linkedInos.push(ino);
    }
    if (j === INDEX_CHUNK - 1) this.seal();
    return i;
  }

  /** A chunk with room at `j`: a new one, or the first one doubled (it is the only one grown). */
  private room(j: number): IndexChunk {
    let c: IndexChunk;
    if (this.open === null) {
      c = newChunk(this.n === 0 ? FIRST_CHUNK : INDEX_CHUNK);
      this.chunks.push(c);
    } else {
      c = newChunk(Math.min(INDEX_CHUNK, j * 2));
      for (const k of COLUMNS) (c[k] as Float64Array).set(this.open[k] as Float64Array);
      this.chunks[this.chunks.length - 1] = c;
    }
    this.open = c;
    return c;
  }

  /** The open chunk is full: to the sink, or kept. */
  private seal(): void {
    const c = this.open!;
    this.open = null;
    if (this.sink) {
      this.chunks.pop();
      this.base = this.n;
      this.sink(c);
    }
  }

  update(i: number, kind: EntryKind, disk: number, apparent: number): void {
    if (i < this.base || i >= this.n) throw new RangeError(`entry ${i} is not in the builder (${this.base}..${this.n})`);
    const c = this.chunks[(i - this.base) >>> INDEX_CHUNK_BITS]!;
    const j = i & (INDEX_CHUNK - 1);
    c.kinds[j] = KIND[kind];
    c.disk[j] = disk;
    c.apparent[j] = apparent;
  }

  /**
   * Entries another builder's sink handed over, in the order handed: full chunks, then at most
   * one shorter one (its `end()`). Kept as they came, each column copied only when it shares
   * its buffer (a message's, structured clone).
   */
  append(chunk: IndexChunk): void {
    const len = chunk.hashes.length;
    if (this.sink) throw new Error('a builder with a sink takes no chunks');
    if (this.open !== null || this.n % INDEX_CHUNK !== 0) throw new Error(`index chunk after a partial one (at entry ${this.n})`);
    if (len === 0) return;
    if (len > INDEX_CHUNK || COLUMNS.some((k) => chunk[k].length !== len)) throw new Error('index chunk of unequal or oversized columns');
    // Each column on its own buffer, so that finish() can let go of one column's chunks before the next.
    chunk = { hashes: own(chunk.hashes), parents: own(chunk.parents), kinds: own(chunk.kinds), disk: own(chunk.disk), apparent: own(chunk.apparent) };
    this.chunks.push(chunk);
    this.n += len;
    // A short chunk is the last: nothing more may follow it.
    if (len < INDEX_CHUNK) this.open = chunk;
  }

  private linkedColumns(): { linked: Int32Array; linkedInos: Float64Array } {
    return { linked: Int32Array.from(this.linked), linkedInos: Float64Array.from(this.linkedInos) };
  }

  /** A builder with a sink: hands over the entries not yet handed (a shorter chunk), and what else the index needs. */
  end(): IndexTail {
    if (!this.sink) throw new Error('end() is for a builder with a sink; finish() the others');
    const c = this.open;
    this.open = null;
    this.chunks.length = 0;
    const left = this.n - this.base;
    this.base = this.n;
    if (c && left > 0) {
      this.sink({ hashes: c.hashes.slice(0, left), parents: c.parents.slice(0, left), kinds: c.kinds.slice(0, left), disk: c.disk.slice(0, left), apparent: c.apparent.slice(0, left) });
    }
    return { count: this.n, ...this.linkedColumns() };
  }

  /**
   * The index, its columns exactly `count` long. For chunks appended from a streaming builder,
   * `tail` is what that builder's end() returned: its count must be what arrived. `collect`: a
   * garbage collection, called on a big index after each 8-byte column once its chunks are let go
   * of (memory dropped is freed only when collected: collectors/walk/collect-garbage.ts).
   */
  finish(tail?: IndexTail, collect?: () => void): PathIndex {
    if (this.sink) throw new Error('a builder with a sink ends with end()');
    const n = this.n;
    if (tail && tail.count !== n) throw new Error(`the index has ${tail.count} entries, ${n} arrived`);
    const chunks = this.chunks;
    const out = { count: n } as PathIndex;
    const between = chunks.length >= COLLECT_FROM ? collect : undefined;
    for (const k of BY_SIZE) {
      const first = chunks[0]?.[k];
      let col: Float64Array | Int32Array | Uint8Array;
      // One chunk just as long (a full one, or one that arrived): it is the column.
      if (chunks.length === 1 && first!.length === n) col = first!;
      else {
        col = newColumn(k, n);
        let at = 0;
        for (const c of chunks) {
          const part = c[k];
          const len = Math.min(part.length, n - at);
          (col as Float64Array).set(len === part.length ? part : part.subarray(0, len), at);
          at += len;
        }
      }
      (out as unknown as Record<string, unknown>)[k] = col;
      // Copied: this column's chunks can go before the next column is made.
      for (const c of chunks) (c as unknown as Record<string, unknown>)[k] = EMPTY[k];
      if (between && col.BYTES_PER_ELEMENT === 8) between();
    }
    chunks.length = 0;
    this.open = null;
    const linked = tail ? { linked: tail.linked, linkedInos: tail.linkedInos } : this.linkedColumns();
    out.linked = linked.linked;
    out.linkedInos = linked.linkedInos;
    return out;
  }
}

const EMPTY: IndexChunk = newChunk(0);

function newColumn(k: (typeof COLUMNS)[number], n: number): Float64Array | Int32Array | Uint8Array {
  return k === 'parents' ? new Int32Array(n) : k === 'kinds' ? new Uint8Array(n) : new Float64Array(n);
}

/** A column on a buffer of its own: what arrives over IPC is a view into the whole message. */
function own<T extends Float64Array | Int32Array | Uint8Array>(col: T): T {
  return col.byteOffset === 0 && col.buffer.byteLength === col.byteLength ? col : (col.slice() as T);
}

/**
 * An index from path → entry pairs (tests, fixtures). Parent directories a list leaves out are
 * added as empty directories, as every overlay diff holds the parents of what it changes.
 */
export function indexFromEntries(entries: Iterable<[string, IndexEntry]>): PathIndex {
  const b = new PathIndexBuilder();
  const at = new Map<string, number>();
  const ensure = (path: string, entry: IndexEntry | null): number => {
    const known = at.get(path);
    if (known !== undefined) {
      // A path listed after one of its children: keep the listed figures.
      if (entry) b.update(known, entry.kind, entry.disk, entry.apparent);
      return known;
    }
    const slash = path.lastIndexOf('/');
    const parent = slash < 0 ? -1 : ensure(path.slice(0, slash), null);
    const e = entry ?? { kind: 'dir' as const, disk: 0, apparent: 0 };
    const i = b.add(hashPath(path), parent, e.kind, e.disk, e.apparent, e.ino ?? 0);
    at.set(path, i);
    return i;
  };
  for (const [path, entry] of entries) ensure(path.replace(/^\/+|\/+$/g, ''), entry);
  return b.finish();
}
