import assert from 'node:assert/strict';
import { parseBolt } from '../../collectors/lib/bbolt.js';
import type { Problem } from '../../collectors/lib/facts.js';
import { parseMetaDb } from '../../collectors/stores/containerd/meta-db.js';
import { parseSnapshotsDb } from '../../collectors/stores/containerd/snapshots-db.js';
import { expected, fixture } from './containerd-fixture.js';

// The fixture's metadata.db against ctr (kinds, parents: joined through meta.db's backend keys)
// and du/find on snapshots/<id>/fs (expected.json's disk.snapshotDirs).
const problems: Problem[] = [];
const snaps = parseSnapshotsDb(parseBolt(fixture('metadata.db')), problems);
const overlayfs = parseMetaDb(parseBolt(fixture('meta.db')), []).namespaces.get('moby')!.snapshots.get('overlayfs')!;
const backendKey = (key: string): string => overlayfs.get(key)!.backendKey!;
const info = (key: string) => snaps.snapshots.get(backendKey(key))!;

describe('containerd overlayfs metadata.db: the fixture', () => {
  it('reads without a problem: one record per snapshots/<id> directory', () => {
    assert.deepEqual(problems, []);
    const ids = [...snaps.snapshots.values()].map((s) => s.id);
    assert.deepEqual(ids.map(Number).sort((a, b) => a - b), Object.keys(expected.disk.snapshotDirs).map(Number).sort((a, b) => a - b));
  });

  it('has a record for each snapshot of meta.db, of the kind and parent ctr showed', () => {
    assert.deepEqual([...snaps.snapshots.keys()].sort(), [...overlayfs.values()].map((s) => s.backendKey).sort());
    for (const s of expected.ctr.snapshots) {
      const rec = info(s.key);
      assert.equal(rec.backendKey, backendKey(s.key));
      assert.equal(rec.kind, s.kind, s.key);
      assert.equal(rec.parent, s.parent === null ? null : backendKey(s.parent), s.key);
      assert.deepEqual(rec.labels, new Map());
      assert.match(rec.createdAt ?? '', /^2026-12-01T09:15:3\d\.\d{3}Z$/);
    }
  });

  it('has the size and inodes of every committed snapshot as du -sB1 and find counted them', () => {
    let committed = 0;
    for (const s of snaps.snapshots.values()) {
      const dir = expected.disk.snapshotDirs[s.id!]!;
      if (s.kind === 'Committed') {
        committed++;
        assert.deepEqual([s.size, s.inodes], [dir.du, dir.entries], s.backendKey);
      } else assert.deepEqual([s.size, s.inodes], [null, null], s.backendKey);
    }
    assert.equal(committed, 9);
    assert.deepEqual([info(expected.images[0]!.chainIds[0]!).id, info(expected.images[0]!.chainIds[0]!).size], ['1', 1998848]);
  });

  it('maps each container to the directory of its writable layer, the -init beneath it', () => {
    for (const c of expected.containers) {
      const writable = info(c.id);
      assert.deepEqual([writable.id, writable.kind], [c.snapshotId, 'Active']);
      const init = snaps.snapshots.get(writable.parent!)!;
      assert.deepEqual([init.backendKey, init.kind, init.size], [backendKey(`${c.id}-init`), 'Committed', 28672]);
    }
  });

  it('gives the ids and kinds of the layout doc’s table', () => {
    const table: Array<[string, string, string]> = [
      [expected.images[1]!.chainIds[1]!, '5', 'Committed'],
      ['wa9e6pwsg2zsp69xsrdqb5iu1', '6', 'Active'],
      ['mi97lb3fsjl9jib84f7kxwhh4', '9', 'Committed'],
      ['mi97lb3fsjl9jib84f7kxwhh4-view', '11', 'View'],
      [expected.images[2]!.chainIds[2]!, '15', 'Committed'],
    ];
    for (const [key, id, kind] of table) assert.deepEqual([info(key).id, info(key).kind], [id, kind], key);
  });
});
