import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { bucketEntries, bucketNames, parseBolt, walk, type BoltDb } from '../../collectors/lib/bbolt.js';

// Real files written by dockerd 20.10's BuildKit after one `RUN echo hi > /hi` build.
const FIXTURES = new URL('../../../test/fixtures/buildkit/', import.meta.url);
const fixture = (name: string): Buffer => readFileSync(new URL(name, FIXTURES));

function fnv1a64(bytes: Buffer): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h;
}

function flip(buf: Buffer, off: number): void {
  buf.writeUInt8(buf.readUInt8(off) ^ 0x01, off);
}

function allEntries(db: BoltDb): string[] {
  const out: string[] = [];
  walk(db, (path, key, value) => {
    const name = [...path, key].map((b) => b.toString('latin1')).join('/');
    out.push(value === null ? `${name}/` : `${name}=${value.toString('latin1')}`);
  });
  return out;
}

// The fixtures hold only leaves and inline buckets, so a hand-built file covers branch pages,
// overflow pages and a bucket with its own root page.
const PS = 4096;
interface El {
  flags: number;
  key: string;
  value: Buffer;
}

function writeLeafish(buf: Buffer, off: number, pgid: number, flags: number, overflow: number, els: El[]): void {
  buf.writeBigUInt64LE(BigInt(pgid), off);
  buf.writeUInt16LE(flags, off + 8);
  buf.writeUInt16LE(els.length, off + 10);
  buf.writeUInt32LE(overflow, off + 12);
  let data = off + 16 + els.length * 16;
  els.forEach((el, i) => {
    const e = off + 16 + i * 16;
    const key = Buffer.from(el.key);
    if (flags === 0x02) {
      buf.writeUInt32LE(el.flags, e);
      buf.writeUInt32LE(data - e, e + 4);
      buf.writeUInt32LE(key.length, e + 8);
      buf.writeUInt32LE(el.value.length, e + 12);
    } else {
      buf.writeUInt32LE(data - e, e);
      buf.writeUInt32LE(key.length, e + 4);
      buf.writeBigUInt64LE(el.value.readBigUInt64LE(0), e + 8);
    }
    key.copy(buf, data);
    data += key.length;
    if (flags === 0x02) data += el.value.copy(buf, data);
  });
}

function bucketValue(root: number, inline?: Buffer): Buffer {
  const head = Buffer.alloc(16);
  head.writeBigUInt64LE(BigInt(root), 0);
  return inline ? Buffer.concat([head, inline]) : head;
}

function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}

function writeMeta(buf: Buffer, pgid: number, root: number, highWater: number, txid: number): void {
  const off = pgid * PS;
  buf.writeBigUInt64LE(BigInt(pgid), off);
  buf.writeUInt16LE(0x04, off + 8);
  const m = off + 16;
  buf.writeUInt32LE(0xed0cdaed, m);
  buf.writeUInt32LE(2, m + 4);
  buf.writeUInt32LE(PS, m + 8);
  buf.writeBigUInt64LE(BigInt(root), m + 16);
  buf.writeBigUInt64LE(0xffffffffffffffffn, m + 32); // no freelist synced
  buf.writeBigUInt64LE(BigInt(highWater), m + 40);
  buf.writeBigUInt64LE(BigInt(txid), m + 48);
  buf.writeBigUInt64LE(fnv1a64(buf.subarray(m, m + 56)), m + 56);
}

const BIG = 'x'.repeat(5000);

/** root(2) = {big: bucket at page 3, small: inline bucket}; 3 = branch -> 4, 5; 5 overflows into 6. */
function synthetic(branchChild = 5): Buffer {
  const buf = Buffer.alloc(7 * PS);
  const inline = Buffer.alloc(64);
  writeLeafish(inline, 0, 0, 0x02, 0, [{ flags: 0, key: 'k', value: Buffer.from('v') }]);
  writeLeafish(buf, 2 * PS, 2, 0x02, 0, [
    { flags: 1, key: 'big', value: bucketValue(3) },
    { flags: 1, key: 'small', value: bucketValue(0, inline) },
  ]);
  writeLeafish(buf, 3 * PS, 3, 0x01, 0, [
    { flags: 0, key: 'a', value: u64(4) },
    { flags: 0, key: 'm', value: u64(branchChild) },
  ]);
  writeLeafish(buf, 4 * PS, 4, 0x02, 0, [
    { flags: 0, key: 'a', value: Buffer.from('1') },
    { flags: 0, key: 'b', value: Buffer.from('2') },
  ]);
  writeLeafish(buf, 5 * PS, 5, 0x02, 1, [
    { flags: 0, key: 'm', value: Buffer.from(BIG) },
    { flags: 0, key: 'z', value: Buffer.from('3') },
  ]);
  writeMeta(buf, 0, 2, 7, 2);
  writeMeta(buf, 1, 2, 7, 1);
  return buf;
}

describe('bbolt', () => {
  describe('real BuildKit files', () => {
    const TOP_LEVEL: Record<string, string[]> = {
      'cache.db': ['_backlinks', '_byresult', '_links', '_result'],
      'containerdmeta.db': ['v1'],
      'metadata_v2.db': ['_external', '_index', '_main'],
      'snapshots.db': [
        'g6z9er4ujiiw23711tjd71yde',
        'gsbezn6ahp0hcm2y8jnaln6xa',
        'mpf2eb29quihiunasblzq3uy7',
        'sha256:db4fc538a906f8dcddc1e3e981a46c0910403deea9a6c0229c4fef3b6c0c76b8',
        'wivkrr8r1biitgwe4piw82dbd',
        'xjf4w7ccl0icr4bs04qkiwd4f',
      ],
    };
    for (const [file, buckets] of Object.entries(TOP_LEVEL)) {
      it(`${file}: meta and top-level buckets`, () => {
        const buf = fixture(file);
        const db = parseBolt(buf);
        assert.equal(db.meta.pageSize, 4096);
        assert.ok(db.meta.txid > 0n);
        assert.ok(db.meta.highWater * 4096 <= buf.length);
        assert.deepEqual(bucketNames(db), buckets);
      });
    }

    it('walks nested buckets with their paths (snapshots.db)', () => {
      const db = parseBolt(fixture('snapshots.db'));
      assert.deepEqual(allEntries(db), [
        'g6z9er4ujiiw23711tjd71yde/',
        'g6z9er4ujiiw23711tjd71yde/chainid=sha256:eea59abaf9e670db533a05df7e4ccc38b9d240d6d451e83136a6056605296a56',
        'g6z9er4ujiiw23711tjd71yde/committed=mpf2eb29quihiunasblzq3uy7',
        'gsbezn6ahp0hcm2y8jnaln6xa/',
        'gsbezn6ahp0hcm2y8jnaln6xa/chainid=sha256:db4fc538a906f8dcddc1e3e981a46c0910403deea9a6c0229c4fef3b6c0c76b8',
        'mpf2eb29quihiunasblzq3uy7/',
        'mpf2eb29quihiunasblzq3uy7/iscommitted=',
        'mpf2eb29quihiunasblzq3uy7/parent=sha256:db4fc538a906f8dcddc1e3e981a46c0910403deea9a6c0229c4fef3b6c0c76b8',
        'sha256:db4fc538a906f8dcddc1e3e981a46c0910403deea9a6c0229c4fef3b6c0c76b8/',
        'wivkrr8r1biitgwe4piw82dbd/',
        'wivkrr8r1biitgwe4piw82dbd/parent=',
        'xjf4w7ccl0icr4bs04qkiwd4f/',
        'xjf4w7ccl0icr4bs04qkiwd4f/parent=',
      ]);
    });

    it('finds a bucket by path (containerdmeta.db leases)', () => {
      const db = parseBolt(fixture('containerdmeta.db'));
      assert.deepEqual(bucketNames(db, ['v1']), ['buildkit']);
      assert.deepEqual(bucketNames(db, ['v1', 'buildkit', 'leases']), [
        'g6z9er4ujiiw23711tjd71yde',
        'gsbezn6ahp0hcm2y8jnaln6xa',
        'wivkrr8r1biitgwe4piw82dbd',
        'xjf4w7ccl0icr4bs04qkiwd4f',
      ]);
      const labels = bucketEntries(db, ['v1', 'buildkit', 'leases', 'g6z9er4ujiiw23711tjd71yde', 'labels']);
      assert.deepEqual(
        labels?.map((e) => [e.key.toString(), e.value?.toString()]),
        [['containerd.io/gc.flat', '2026-11-23T15:06:35.514977021Z']],
      );
      assert.equal(bucketEntries(db, ['v1', 'nope']), null);
      assert.equal(bucketNames(db, ['v1', 'buildkit', 'leases', 'g6z9er4ujiiw23711tjd71yde', 'createdat']), null);
    });

    it('throws on a truncated file', () => {
      const buf = fixture('metadata_v2.db');
      assert.throws(() => parseBolt(buf.subarray(0, buf.length / 2)), /bbolt: .*truncated/);
      assert.throws(() => parseBolt(buf.subarray(0, 100)), /bbolt: no valid meta page/);
      assert.throws(() => parseBolt(Buffer.alloc(0)), /bbolt: no valid meta page/);
    });

    it('throws when both metas are damaged, falls back when only the current one is', () => {
      const buf = Buffer.from(fixture('cache.db'));
      const current = parseBolt(buf).meta;
      const other = current.page === 0 ? 1 : 0;
      flip(buf, current.page * 4096 + 16 + 20); // inside the checksummed meta
      const fallback = parseBolt(buf).meta;
      assert.equal(fallback.page, other);
      assert.equal(fallback.txid, current.txid - 1n);
      assert.deepEqual(bucketNames(parseBolt(buf)), ['_backlinks', '_byresult', '_links', '_result']);
      flip(buf, other * 4096 + 16 + 20);
      assert.throws(() => parseBolt(buf), /bbolt: no valid meta page \(meta 0 fails its checksum; meta 1 fails/);
    });

    it('throws on garbage', () => {
      const junk = Buffer.alloc(16384);
      for (let i = 0; i < junk.length; i++) junk[i] = (i * 2654435761) >>> 24;
      assert.throws(() => parseBolt(junk), /bbolt: no valid meta page/);
    });
  });

  describe('hand-built file', () => {
    it('reads branch pages, overflow pages and inline buckets', () => {
      const db = parseBolt(synthetic());
      assert.equal(db.meta.txid, 2n);
      assert.equal(db.meta.page, 0);
      assert.equal(db.meta.freelistPgid, 0xffffffffffffffffn);
      assert.deepEqual(allEntries(db), ['big/', 'big/a=1', 'big/b=2', `big/m=${BIG}`, 'big/z=3', 'small/', 'small/k=v']);
    });

    it('throws on a page cycle instead of looping', () => {
      assert.throws(() => walk(parseBolt(synthetic(3)), () => {}), /bbolt: page 3 is reached twice/);
    });

    it('throws on a child page past the high-water mark', () => {
      assert.throws(() => walk(parseBolt(synthetic(9)), () => {}), /bbolt: page id 9 outside 2\.\.6/);
    });

    it('throws on an element pointing past its page', () => {
      const buf = synthetic();
      buf.writeUInt32LE(0xffff0000, 4 * PS + 16 + 12); // vsize of page 4's first element
      assert.throws(() => walk(parseBolt(buf), () => {}), /bbolt: page 4: element data runs past the page/);
    });

    it('throws on a page whose header names another page', () => {
      const buf = synthetic();
      buf.writeBigUInt64LE(42n, 4 * PS);
      assert.throws(() => walk(parseBolt(buf), () => {}), /bbolt: page 4 says it is page 42/);
    });
  });
});
