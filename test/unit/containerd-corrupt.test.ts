import assert from 'node:assert/strict';
import { bucketEntries, parseBolt, type BoltDb } from '../../collectors/lib/bbolt.js';
import type { Problem } from '../../collectors/lib/facts.js';
import { parseMetaDb } from '../../collectors/stores/containerd/meta-db.js';
import { readBoltFile } from '../../collectors/stores/containerd/read-bolt.js';
import { parseSnapshotsDb } from '../../collectors/stores/containerd/snapshots-db.js';
import {
  fixture,
  flatMeta,
  flatSnapshots,
  flipped,
  previousVersion,
  raw,
  torn,
  unchangingFile,
  unflagged,
  type Flat,
} from './containerd-fixture.js';

// Damaged copies of the fixtures, read the way the store reads them (readBoltFile, then the
// parser). What every case asserts:
// - nothing throws;
// - readBoltFile gives null with exactly one problem, naming the file, or a db;
// - from a db, every record the parser gives is the intact file's record (timestamps aside: any
//   eight bytes are some instant), or a problem stands beside it: on the record or a bucket in it,
//   or saying a bucket above it is corrupt (containerd-fixture.ts, besideProblem);
// - a parse without any problem gives exactly the records of the version the chosen meta page
//   holds (the file's last transaction, or the one before when the newest meta is the damage).
// Records that vanish with their bucket are not claimed to be seen, except by that last rule.

interface FileCase {
  name: string;
  parse(db: BoltDb, problems: Problem[]): Flat[];
  /** One copy per this many bytes of the used pages for the single-byte damage: ~300 copies. */
  singleStep: number;
}

const FILES: FileCase[] = [
  { name: 'meta.db', parse: (db, p) => flatMeta(parseMetaDb(db, p)), singleStep: 971 },
  { name: 'metadata.db', parse: (db, p) => flatSnapshots(parseSnapshotsDb(db, p)), singleStep: 193 },
];

function intact(c: FileCase, buf: Buffer): Flat[] {
  const problems: Problem[] = [];
  const records = c.parse(parseBolt(buf), problems);
  assert.deepEqual(problems, []);
  return records;
}

async function read(c: FileCase, buf: Buffer): Promise<{ db: BoltDb | null; records: Flat[]; problems: Problem[] }> {
  const problems: Problem[] = [];
  const db = await readBoltFile(c.name, problems, unchangingFile(buf));
  if (db === null) {
    assert.equal(problems.length, 1, JSON.stringify(problems));
    assert.equal(problems[0]!.path, c.name);
    return { db, records: [], problems };
  }
  return { db, records: c.parse(db, problems), problems };
}

const without = (records: Flat[], drop: (r: Flat) => boolean): Flat[] => records.filter((r) => !drop(r));

for (const c of FILES) {
  describe(`containerd ${c.name}: damaged copies`, () => {
    const buf = fixture(c.name);
    const current = intact(c, buf);
    const previous = intact(c, previousVersion(buf));
    const txid = parseBolt(buf).meta.txid;

    it('truncated inside its pages: no db, one problem naming the file', async () => {
      const { db, problems } = await read(c, buf.subarray(0, Math.floor(buf.length / 2)));
      assert.equal(db, null);
      assert.match(problems[0]!.message, /truncated/);
    });

    it('truncated past its high-water mark (the unused tail): every record intact', async () => {
      const { records, problems } = await read(c, buf.subarray(0, parseBolt(buf).meta.highWater * 4096));
      assert.deepEqual([records, problems], [current, []]);
    });

    it('every 97th byte inverted, at each of the 97 phases: every figure kept is right or flagged', async () => {
      let parsed = 0;
      for (let from = 0; from < 97; from++) {
        const { db, records, problems } = await read(c, flipped(buf, 97, from));
        if (db === null) continue;
        parsed++;
        const version = db.meta.txid === txid ? current : previous;
        assert.deepEqual(unflagged(version, records, problems, c.name), [], `phase ${from}`);
        if (problems.length === 0) assert.deepEqual(records, version, `phase ${from}: no problem, yet not the file`);
      }
      assert.ok(parsed >= 40, `only ${parsed} phases left a readable meta page`);
    });

    it(`one byte inverted per copy, at every ${c.singleStep} bytes of the used pages: right, or flagged`, async () => {
      // Sparse damage reaches the field checks (a size, a digest, a kind) rather than only the
      // page structure; `wrongButFlagged` shows it did.
      let wrongButFlagged = 0;
      for (let at = 0; at < parseBolt(buf).meta.highWater * 4096; at += c.singleStep) {
        const damaged = Buffer.from(buf);
        damaged[at] = damaged[at]! ^ 0xff;
        const { db, records, problems } = await read(c, damaged);
        if (db === null) continue;
        const version = db.meta.txid === txid ? current : previous;
        assert.deepEqual(unflagged(version, records, problems, c.name), [], `byte ${at}`);
        if (problems.length === 0) assert.deepEqual(records, version, `byte ${at}: no problem, yet not the file`);
        const same = new Set(version.map((r) => JSON.stringify(r)));
        if (records.some((r) => !same.has(JSON.stringify(r)))) wrongButFlagged++;
      }
      assert.ok(wrongButFlagged > 0, 'no copy had a wrong field: the field checks went untested');
    });
  });
}

describe('containerd meta.db: copies torn across its last commit', () => {
  const c = FILES[0]!;
  const buf = fixture(c.name);
  const current = intact(c, buf);
  // Transaction 196 added the container `created`'s writable snapshot and its lease entry; it
  // rewrote pages 44, 46 and 61 (the moby leases) and 63–68 (the snapshots, up to the root).
  const lease = ['v1', 'moby', 'leases', '3c982d1323a4c818cd3a67c5a7b91289c058cae9578b0d2188ab5c94ef8696ce'].map(raw);
  const isLease = (r: Flat) => JSON.stringify(r.path) === JSON.stringify(lease);

  it('the leases pages as they were before it: a state neither version had, and no problem', async () => {
    // Only readBoltFile's re-read of the meta pages can catch this one: every page is well formed.
    const { records, problems } = await read(c, torn(buf, (page) => page < 62, 'older'));
    assert.deepEqual(problems, []);
    assert.deepEqual(without(records, isLease), without(current, isLease));
    const held = records.find(isLease)!.fields as { snapshots: Array<[string, string[]]> };
    assert.deepEqual(held.snapshots, [['overlayfs', [`${raw('3c982d1323a4c818cd3a67c5a7b91289c058cae9578b0d2188ab5c94ef8696ce')}-init`]]]);
  });

  it('the leases pages not yet written (zeros): the leases lost and named, the rest intact', async () => {
    const { records, problems } = await read(c, torn(buf, (page) => page < 62, 'zeros'));
    assert.deepEqual(problems.map((p) => p.path), ['meta.db [v1/moby/leases]']);
    assert.match(problems[0]!.message, /unreadable/);
    const mobyLease = (r: Flat) => r.path.slice(0, 3).join('/') === 'v1/moby/leases';
    assert.deepEqual(records, without(current, mobyLease));
  });
});

describe('containerd metadata.db: copies torn across its last commit', () => {
  const c = FILES[1]!;
  const buf = fixture(c.name);
  const current = intact(c, buf);
  // Transaction 35 added the writable snapshot of `created` (id 19): it rewrote leaf page 6 of
  // v1/snapshots, its branch page 9, the v1/parents index (page 10) and the pages above.
  const created = raw('moby/28/3c982d1323a4c818cd3a67c5a7b91289c058cae9578b0d2188ab5c94ef8696ce');
  const isCreated = (r: Flat) => r.path[2] === created;

  it('the snapshots leaf as it was before it: the index it disagrees with is named', async () => {
    const { records, problems } = await read(c, torn(buf, (page) => page < 9, 'older'));
    assert.deepEqual(records, without(current, isCreated));
    assert.deepEqual(problems.map((p) => p.path), ['metadata.db [v1/parents]']);
    assert.match(problems[0]!.message, /^entry 18 → 19 \("moby\/28\/3c98[0-9a-f]+"\) is no snapshot's link$/);
  });

  it('the snapshots leaf not yet written (zeros): the snapshots lost and named', async () => {
    const { records, problems } = await read(c, torn(buf, (page) => page < 9, 'zeros'));
    assert.deepEqual(records, []);
    assert.deepEqual(problems.map((p) => p.path), ['metadata.db [v1/snapshots]']);
    assert.match(problems[0]!.message, /unreadable/);
  });
});

describe('containerd meta.db: damage that still reads as text', () => {
  const c = FILES[0]!;
  const buf = fixture(c.name);
  const current = intact(c, buf);
  const blob = 'sha256:e7383f7c056782dfcb5d2f3bceb0dc8c32610ebdbfe912222d239f7c5e800148'; // base's manifest

  /** Where the entry `key` of the bucket at `path` lies in `copy`, and its element header. */
  function locate(copy: Buffer, path: string[], key: string): { keyAt: number; header: number } {
    const entry = bucketEntries(parseBolt(copy), path)!.find((e) => e.key.toString() === key)!;
    const keyAt = entry.key.byteOffset - copy.byteOffset;
    for (let h = keyAt - 16; h > keyAt - 4096; h--) {
      const leaf = h + copy.readUInt32LE(h + 4) === keyAt && copy.readUInt32LE(h + 8) === entry.key.length;
      if (leaf && (entry.value === null || copy.readUInt32LE(h + 12) === entry.value.length)) return { keyAt, header: h };
    }
    throw new Error(`no element header for ${key}`);
  }

  it('a value size grown into the next entry: the overlap is named beside the label it lengthens', async () => {
    const copy = Buffer.from(buf);
    const labels = ['v1', 'moby', 'content', 'blob', blob, 'labels'];
    const { header } = locate(copy, labels, 'containerd.io/gc.ref.content.config');
    copy.writeUInt32LE(copy.readUInt32LE(header + 12) + 20, header + 12);
    const { records, problems } = await read(c, copy);
    assert.deepEqual(unflagged(current, records, problems, c.name), []);
    assert.deepEqual(problems.map((p) => p.path), [`meta.db [v1/moby/content/blob/${blob}/labels]`]);
    assert.match(problems[0]!.message, /entries overlap/);
    assert.equal(records.length, current.length);
  });

  it('an image name changed to another name: its bucket is out of order, and said so', async () => {
    const copy = Buffer.from(buf);
    const { keyAt } = locate(copy, ['v1', 'moby', 'images'], 'docker.io/library/kit:latest');
    copy.write('a', keyAt + 'docker.io/library/'.length, 'latin1'); // kit → ait: before classic
    const { records, problems } = await read(c, copy);
    assert.deepEqual(unflagged(current, records, problems, c.name), []);
    assert.deepEqual(problems.map((p) => p.path), ['meta.db [v1/moby/images]']);
    assert.match(problems[0]!.message, /out of order/);
    assert.ok(records.some((r) => r.path.includes('docker.io/library/ait:latest')));
  });
});
