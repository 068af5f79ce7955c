// The path index's builder (collectors/lib/path-index.ts): entries kept in chunks of INDEX_CHUNK,
// put together by finish(), and streamed from a walker process (a sink, then append + finish).
// Checked entry by entry against a reference made of plain arrays, at and across the chunk
// boundaries, and through the same serializer the walker processes' IPC uses.
import assert from 'node:assert/strict';
import { deserialize, serialize } from 'node:v8';
import type { EntryKind } from '../../collectors/lib/facts.js';
import { entryAt, find, hashPath, KIND, KINDS, type PathIndex } from '../../collectors/lib/path-index.js';
import { INDEX_CHUNK, indexFromEntries, PathIndexBuilder, type IndexChunk } from '../../collectors/lib/path-index-builder.js';

interface Row {
  hash: number;
  parent: number;
  kind: EntryKind;
  disk: number;
  apparent: number;
  ino: number;
}

/** A deterministic generator (xorshift32), so a failing case repeats. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/** `n` entries as a walk makes them: each parent an earlier entry (or the root), a few hardlinked. */
function rows(n: number, seed = n + 1): Row[] {
  const r = rng(seed);
  const out: Row[] = [];
  for (let i = 0; i < n; i++) {
    const linked = r() < 0.01;
    out.push({
      hash: Math.floor(r() * 2 ** 53),
      parent: i === 0 || r() < 0.05 ? -1 : Math.floor(r() * i),
      kind: KINDS[Math.floor(r() * KINDS.length)]!,
      disk: Math.floor(r() * 2 ** 40),
      apparent: Math.floor(r() * 2 ** 45),
      ino: linked ? 1 + Math.floor(r() * 2 ** 52) : 0,
    });
  }
  return out;
}

/** The index as plain arrays would hold it: what the doubling builder made. */
function reference(entries: Row[]): PathIndex {
  const linked = entries.flatMap((e, i) => (e.ino ? [i] : []));
  return {
    count: entries.length,
    hashes: Float64Array.from(entries, (e) => e.hash),
    parents: Int32Array.from(entries, (e) => e.parent),
    kinds: Uint8Array.from(entries, (e) => KIND[e.kind]),
    disk: Float64Array.from(entries, (e) => e.disk),
    apparent: Float64Array.from(entries, (e) => e.apparent),
    linked: Int32Array.from(linked),
    linkedInos: Float64Array.from(linked, (i) => entries[i]!.ino),
  };
}

function build(entries: Row[], b = new PathIndexBuilder()): PathIndexBuilder {
  entries.forEach((e, i) => assert.equal(b.add(e.hash, e.parent, e.kind, e.disk, e.apparent, e.ino), i));
  return b;
}

/** Equal column by column, each column exactly `count` long and of its type. */
function assertSameIndex(got: PathIndex, want: PathIndex, what: string): void {
  assert.equal(got.count, want.count, `${what}: count`);
  for (const k of ['hashes', 'parents', 'kinds', 'disk', 'apparent', 'linked', 'linkedInos'] as const) {
    assert.equal(got[k].constructor, want[k].constructor, `${what}: ${k}'s type`);
    assert.equal(got[k].length, want[k].length, `${what}: ${k}'s length`);
    // deepEqual on 100k-long typed arrays is slow; compare bytes.
    assert.ok(Buffer.from(got[k].buffer, got[k].byteOffset, got[k].byteLength).equals(Buffer.from(want[k].buffer, want[k].byteOffset, want[k].byteLength)), `${what}: ${k}`);
  }
}

/** Streams `entries` through a sink, each chunk through v8's serializer (as over the walker IPC), into a second builder. */
function streamed(entries: Row[]): { index: PathIndex; chunks: number[] } {
  const received = new PathIndexBuilder();
  const chunks: number[] = [];
  const sender = build(
    entries,
    new PathIndexBuilder((c) => {
      chunks.push(c.hashes.length);
      received.append(deserialize(serialize({ chunk: c })).chunk as IndexChunk);
    }),
  );
  const tail = deserialize(serialize(sender.end())) as ReturnType<PathIndexBuilder['end']>;
  return { index: received.finish(tail), chunks };
}

const SIZES = [0, 1, 255, 256, 257, INDEX_CHUNK - 1, INDEX_CHUNK, INDEX_CHUNK + 1, 2 * INDEX_CHUNK, 3 * INDEX_CHUNK + 17];

describe('PathIndexBuilder (chunks of INDEX_CHUNK entries)', () => {
  for (const n of SIZES) {
    it(`${n} entries: finish() gives the reference index, column by column`, () => {
      const entries = rows(n);
      assertSameIndex(build(entries).finish(), reference(entries), `${n} entries`);
    });

    it(`${n} entries streamed (sink, serialized, append, finish(tail)): the same index; full chunks but the last`, () => {
      const entries = rows(n);
      const { index, chunks } = streamed(entries);
      assertSameIndex(index, reference(entries), `${n} entries streamed`);
      assert.equal(chunks.reduce((a, b) => a + b, 0), n);
      assert.deepEqual(chunks.slice(0, -1), chunks.slice(0, -1).map(() => INDEX_CHUNK));
      assert.equal(chunks.length, Math.ceil(n / INDEX_CHUNK), 'no empty chunk is sent');
      // Every column on a buffer of its own, not a view into a message: finish() lets them go one by one.
      for (const k of ['hashes', 'parents', 'kinds', 'disk', 'apparent'] as const) assert.equal(index[k].buffer.byteLength, index[k].byteLength, k);
    });
  }

  it('0 entries: empty columns; a streamed one sends no chunk and ends with count 0', () => {
    const ix = new PathIndexBuilder().finish();
    assert.equal(ix.count, 0);
    assert.equal(find(ix, hashPath('a')), -1);
    const sent: IndexChunk[] = [];
    const b = new PathIndexBuilder((c) => sent.push(c));
    assert.equal(b.end().count, 0);
    assert.equal(sent.length, 0);
  });

  it('exactly one chunk: handed over as it fills; end() sends nothing more', () => {
    const sent: IndexChunk[] = [];
    const b = build(rows(INDEX_CHUNK), new PathIndexBuilder((c) => sent.push(c)));
    assert.equal(sent.length, 1, 'sent when full, before end()');
    const tail = b.end();
    assert.equal(sent.length, 1);
    assert.equal(tail.count, INDEX_CHUNK);
  });

  it('a streaming builder keeps no chunk it has handed over: update() of such an entry refuses', () => {
    const b = build(rows(INDEX_CHUNK + 10), new PathIndexBuilder(() => undefined));
    assert.throws(() => b.update(5, 'file', 1, 1), RangeError);
    b.update(INDEX_CHUNK + 3, 'file', 1, 1); // still here
  });

  it('finish() calls `collect` after each 8-byte column of a big index (8 chunks and more), never on one of 7', () => {
    let calls = 0;
    const big = rows(8 * INDEX_CHUNK);
    assertSameIndex(build(big).finish(undefined, () => void calls++), reference(big), 'big');
    assert.equal(calls, 3, 'hashes, disk, apparent');
    build(rows(7 * INDEX_CHUNK)).finish(undefined, () => void calls++);
    assert.equal(calls, 3);
  });

  it('update() reaches entries in every chunk', () => {
    const entries = rows(2 * INDEX_CHUNK + 5);
    const b = build(entries);
    for (const i of [0, INDEX_CHUNK - 1, INDEX_CHUNK, 2 * INDEX_CHUNK + 4]) {
      b.update(i, 'opaque', i + 1, i + 2);
      entries[i] = { ...entries[i]!, kind: 'opaque', disk: i + 1, apparent: i + 2 };
    }
    assertSameIndex(b.finish(), reference(entries), 'updated');
  });

  it('refuses chunks out of shape: after a short one, of unequal columns, or a count that is not what arrived', () => {
    const chunk = (n: number): IndexChunk => ({ hashes: new Float64Array(n), parents: new Int32Array(n), kinds: new Uint8Array(n), disk: new Float64Array(n), apparent: new Float64Array(n) });
    const b = new PathIndexBuilder();
    b.append(chunk(10));
    assert.throws(() => b.append(chunk(INDEX_CHUNK)), /after a partial/);
    assert.throws(() => new PathIndexBuilder().append({ ...chunk(4), kinds: new Uint8Array(3) }), /unequal/);
    assert.throws(() => new PathIndexBuilder().append(chunk(INDEX_CHUNK + 1)), /oversized/);
    const c = new PathIndexBuilder();
    c.append(chunk(INDEX_CHUNK));
    assert.throws(() => c.finish({ count: INDEX_CHUNK + 1, linked: new Int32Array(0), linkedInos: new Float64Array(0) }), /entries/);
  });

  it('brute force: indexFromEntries over a tree of 150k paths (past two chunks) holds every path, its parent, kind and bytes', () => {
    const r = rng(7);
    const listed = new Map<string, { kind: EntryKind; disk: number; apparent: number; ino?: number }>();
    const dirs = [''];
    while (listed.size < 150_000) {
      const dir = dirs[Math.floor(r() * dirs.length)]!;
      const path = `${dir}${dir ? '/' : ''}${r() < 0.1 ? 'd' : 'f'}${Math.floor(r() * 1e6)}`;
      if (listed.has(path)) continue;
      const isDir = path.slice(path.lastIndexOf('/') + 1).startsWith('d');
      if (isDir) dirs.push(path);
      const e = isDir ? { kind: 'dir' as const, disk: 4096, apparent: 0 } : { kind: 'file' as const, disk: Math.floor(r() * 1e6), apparent: Math.floor(r() * 1e6), ...(r() < 0.01 ? { ino: 1 + Math.floor(r() * 1e9) } : {}) };
      listed.set(path, e);
    }
    const ix = indexFromEntries(listed);
    assert.equal(ix.count, listed.size, 'parents all listed before their children: no path added');
    assert.ok(ix.count > 2 * INDEX_CHUNK);
    for (const [path, e] of listed) {
      const i = find(ix, hashPath(path));
      assert.ok(i >= 0, path);
      assert.deepEqual(entryAt(ix, path), e, path);
      const slash = path.lastIndexOf('/');
      assert.equal(ix.parents[i], slash < 0 ? -1 : find(ix, hashPath(path.slice(0, slash))), `${path}'s parent`);
      assert.ok(ix.parents[i]! < i, 'a parent comes before its children');
    }
    // The same entries streamed give the same index.
    const rowsOf: Row[] = Array.from({ length: ix.count }, (_, i) => ({ hash: ix.hashes[i]!, parent: ix.parents[i]!, kind: KINDS[ix.kinds[i]!]!, disk: ix.disk[i]!, apparent: ix.apparent[i]!, ino: 0 }));
    ix.linked.forEach((i, j) => (rowsOf[i]!.ino = ix.linkedInos[j]!));
    assertSameIndex(streamed(rowsOf).index, ix, 'streamed');
  });
});
