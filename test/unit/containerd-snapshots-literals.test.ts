import assert from 'node:assert/strict';
import { parseBolt } from '../../collectors/lib/bbolt.js';
import type { Problem } from '../../collectors/lib/facts.js';
import { parseSnapshotsDb } from '../../collectors/stores/containerd/snapshots-db.js';
import { boltFile, goTime, uvarint, varint, type Tree } from './containerd-bolt-writer.js';

// The overlayfs snapshotter's metadata.db on hand-built files: the kinds the fixture lacks
// (containerd 2's Snapshot), multi-byte ids, and each consistency check.
const AT = '2026-01-02T03:04:05.678Z';
const T = goTime(AT);
const KIND = { view: Buffer.from([1]), active: Buffer.from([2]), committed: Buffer.from([3]), snapshot: Buffer.from([4]) };

/** A v1/parents key, as a latin1 string for the writer. */
const link = (parent: number, child: number): string => Buffer.concat([uvarint(parent), Buffer.from([0]), uvarint(child)]).toString('latin1');

function parse(tree: Tree) {
  const problems: Problem[] = [];
  return { db: parseSnapshotsDb(parseBolt(boltFile(tree)), problems), problems };
}

const base: Tree = { id: uvarint(1), kind: KIND.committed, size: varint(4096), inodes: varint(1), createdat: T, updatedat: T };
const at = (key: string) => `metadata.db [v1/snapshots/"${key}"]`;

describe('containerd metadata.db: literal files', () => {
  it('reads every kind, a multi-byte id, usage of committed ones, parents agreeing with the index', () => {
    const { db, problems } = parse({
      v1: {
        snapshots: {
          'moby/1/a': base,
          'moby/2/b': { id: uvarint(2), kind: KIND.active, parent: 'moby/1/a', createdat: T },
          'moby/3/v': { id: uvarint(3), kind: KIND.view, parent: 'moby/1/a' },
          'moby/4/s': { id: uvarint(4), kind: KIND.snapshot, parent: 'moby/1/a' },
          'moby/5/c': { id: uvarint(300), kind: KIND.committed, parent: 'moby/1/a', size: varint(1998848), inodes: varint(273), labels: { x: 'y' } },
        },
        parents: { [link(1, 2)]: 'moby/2/b', [link(1, 3)]: 'moby/3/v', [link(1, 4)]: 'moby/4/s', [link(1, 300)]: 'moby/5/c' },
      },
    });
    assert.deepEqual(problems, []);
    assert.deepEqual(db.snapshots.get('moby/1/a'), {
      backendKey: 'moby/1/a', id: '1', kind: 'Committed', parent: null, size: 4096, inodes: 1, labels: new Map(), createdAt: AT,
    });
    const kinds = [...db.snapshots.values()].map((s) => [s.backendKey, s.id, s.kind, s.parent, s.size, s.inodes]);
    assert.deepEqual(kinds, [
      ['moby/1/a', '1', 'Committed', null, 4096, 1],
      ['moby/2/b', '2', 'Active', 'moby/1/a', null, null],
      ['moby/3/v', '3', 'View', 'moby/1/a', null, null],
      ['moby/4/s', '4', 'Snapshot', 'moby/1/a', null, null],
      ['moby/5/c', '300', 'Committed', 'moby/1/a', 1998848, 273],
    ]);
    assert.deepEqual(db.snapshots.get('moby/5/c')!.labels, new Map([['x', 'y']]));
  });

  it('a file the snapshotter has not written to (no v1): no snapshot and no problem', () => {
    assert.deepEqual(parse({}), { db: { snapshots: new Map() }, problems: [] });
  });

  it('a kind it does not know, a committed snapshot without its usage, a bad id: named', () => {
    const { db, problems } = parse({
      v1: {
        snapshots: {
          'moby/1/a': { ...base, kind: Buffer.from([9]) },
          'moby/2/b': { id: uvarint(2), kind: KIND.committed },
          'moby/3/c': { ...base, id: Buffer.from([0x83]) },
        },
      },
    });
    assert.deepEqual([...db.snapshots.values()].map((s) => [s.id, s.kind, s.size]), [['1', null, 4096], ['2', 'Committed', null], [null, 'Committed', 4096]]);
    assert.deepEqual(problems, [
      { path: at('moby/1/a'), message: 'kind is not 1, 2, 3 or 4: 0x09' },
      { path: at('moby/2/b'), message: 'size is missing' },
      { path: at('moby/2/b'), message: 'inodes is missing' },
      { path: at('moby/3/c'), message: 'id: truncated varint (1 bytes, no last byte)' },
    ]);
  });

  it('two snapshots with one id, a parent missing or not committed: each named', () => {
    const { problems } = parse({
      v1: {
        snapshots: {
          'moby/1/a': base,
          'moby/2/b': { ...base, parent: 'moby/9/gone' },
          'moby/3/c': { id: uvarint(3), kind: KIND.active },
          'moby/4/d': { id: uvarint(4), kind: KIND.active, parent: 'moby/3/c' },
        },
        parents: { [link(3, 4)]: 'moby/4/d' },
      },
    });
    assert.deepEqual(problems, [
      { path: at('moby/2/b'), message: 'id 1 is also the id of "moby/1/a"' },
      { path: at('moby/1/a'), message: 'id 1 is also the id of "moby/2/b"' },
      { path: at('moby/2/b'), message: 'parent "moby/9/gone" is not recorded' },
      { path: at('moby/4/d'), message: 'parent "moby/3/c" is Active, not Committed' },
    ]);
  });

  it('the parents index: an entry of no link, a link without an entry, a key of another shape', () => {
    const { problems } = parse({
      v1: {
        snapshots: { 'moby/1/a': base, 'moby/2/b': { id: uvarint(2), kind: KIND.active, parent: 'moby/1/a' } },
        parents: { [link(1, 7)]: 'moby/7/x', 'odd-key': 'moby/2/b' },
      },
    });
    assert.deepEqual(problems, [
      { path: 'metadata.db [v1/parents]', message: 'entry 1 → 7 ("moby/7/x") is no snapshot\'s link' },
      { path: 'metadata.db [v1/parents]', message: 'entry "odd-key" is not <parent id> 0x00 <child id>' },
      { path: 'metadata.db [v1/parents]', message: 'no entry for the link of snapshot 2 to its parent 1' },
    ]);
    assert.deepEqual(parse({ v1: { snapshots: { 'moby/1/a': base, 'moby/2/b': { id: uvarint(2), kind: KIND.active, parent: 'moby/1/a' } } } }).problems, [
      { path: 'metadata.db [v1]', message: 'parents is missing, though snapshots have parents' },
    ]);
  });
});
