// Fuzzing the bbolt reader and every parser on top of it with damaged copies of real files: bit
// flips, bytes set, truncations, splices, zeroed pages, pages copied over others (a torn read, a
// misdirected page id) and page-header and element fields overwritten with page ids and extremes
// (cycles, counts past the page, offsets past the file). And the varint, Go time and digest
// decoders they use, on any bytes.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bucketEntries, bucketNames, parseBolt, walk, type BoltDb } from '../../collectors/lib/bbolt.js';
import type { Problem } from '../../collectors/lib/facts.js';
import { extractBuildCacheIds, parseBuildkitChains } from '../../collectors/sources/buildkit.js';
import { parseVolumeLabels } from '../../collectors/sources/volumes.js';
import { isDigest } from '../../collectors/stores/containerd/digest.js';
import { parseMetaDb } from '../../collectors/stores/containerd/meta-db.js';
import { parseSnapshotsDb } from '../../collectors/stores/containerd/snapshots-db.js';
import { decodeUvarint, decodeVarint, parseGoTime, parseUvarint, parseVarint } from '../../collectors/stores/containerd/varint.js';
import { goTime, uvarint, varint } from './containerd-bolt-writer.js';
import { fixture, flatMeta, flatSnapshots, previousVersion, raw, unflagged, type Flat } from './containerd-fixture.js';
import { readFileSync } from 'node:fs';
import { assertNamedProblems, mayThrow, mustNotThrow, mutate, mutationsArb, printTally, runs } from './fuzz-support.js';

// bbolt's reading functions throw a named Error (the bolt-tree and BuildKit callers catch it);
// the parsers that take a Problem[] never throw, and name every part they skip.
const CONTRACTS = {
  parseBolt: 'throws a named Error (readBoltFile retries, then one problem naming the file)',
  walk: 'throws a named Error (parseTree falls back to reading bucket by bucket)',
  bucketEntries: 'throws a named Error (parseTree names the bucket unreadable)',
  extractBuildCacheIds: 'throws a named Error (readBuildCacheIds names the file)',
  parseBuildkitChains: 'throws a named Error (readBuildkitChains names the file)',
  parseMetaDb: 'never throws; every skipped part a problem',
  parseSnapshotsDb: 'never throws; every skipped part a problem',
  parseVolumeLabels: 'never throws; every skipped part a problem',
  varint: 'never throws',
} as const;

const buildkit = (name: string) => readFileSync(new URL(`../../../test/fixtures/buildkit/${name}`, import.meta.url));

interface BoltCase {
  file: string;
  buf: () => Buffer;
  /** The layerdu parser of this file, which must not throw; returns the records it read. */
  parse?: (db: BoltDb, problems: Problem[]) => Flat[];
  /** Parsers whose caller catches. */
  throwing?: Array<[keyof typeof CONTRACTS, (db: BoltDb) => unknown]>;
  numRuns: number;
}

const volumeRecords = (db: BoltDb, problems: Problem[]): Flat[] =>
  [...parseVolumeLabels(db, problems, 'metadata.db')].map(([name, labels]) => ({ path: ['volumes', name].map(raw), fields: labels }));

const CASES: BoltCase[] = [
  { file: 'containerd/meta.db', buf: () => fixture('meta.db'), parse: (db, p) => flatMeta(parseMetaDb(db, p, 'meta.db')), numRuns: 80 },
  { file: 'containerd/metadata.db', buf: () => fixture('metadata.db'), parse: (db, p) => flatSnapshots(parseSnapshotsDb(db, p, 'metadata.db')), numRuns: 200 },
  { file: 'containerd/buildkit-metadata_v2.db', buf: () => fixture('buildkit-metadata_v2.db'), throwing: [['extractBuildCacheIds', extractBuildCacheIds]], numRuns: 150 },
  { file: 'buildkit/cache.db', buf: () => buildkit('cache.db'), throwing: [['extractBuildCacheIds', extractBuildCacheIds]], numRuns: 150 },
  { file: 'buildkit/containerdmeta.db', buf: () => buildkit('containerdmeta.db'), throwing: [['extractBuildCacheIds', extractBuildCacheIds]], numRuns: 150 },
  { file: 'buildkit/metadata_v2.db', buf: () => buildkit('metadata_v2.db'), throwing: [['extractBuildCacheIds', extractBuildCacheIds]], numRuns: 150 },
  {
    file: 'buildkit/snapshots.db',
    buf: () => buildkit('snapshots.db'),
    throwing: [['extractBuildCacheIds', extractBuildCacheIds], ['parseBuildkitChains', parseBuildkitChains]],
    numRuns: 150,
  },
  { file: 'docker-root volumes-metadata.db', buf: () => readFileSync(new URL('../../../test/fixtures/fuzz/volumes-metadata.db', import.meta.url)), parse: volumeRecords, numRuns: 200 },
];

/** What the generic reader can be asked of any bbolt file: a walk, and each top-level bucket's entries. */
function readAll(db: BoltDb, tops: readonly string[]): void {
  mayThrow('walk', () => walk(db, () => {}));
  for (const name of tops) mayThrow('bucketEntries', () => bucketEntries(db, [name]));
  mayThrow('bucketEntries', () => bucketNames(db));
}

const parserName = (c: BoltCase) => (c.file.endsWith('meta.db') ? 'parseMetaDb' : c.file.includes('volumes') ? 'parseVolumeLabels' : 'parseSnapshotsDb');
const sourceOf = (c: BoltCase) => (c.file.endsWith('meta.db') ? 'meta.db' : 'metadata.db');

describe('fuzz: bbolt files', function () {
  this.timeout(20_000);
  after(() => printTally('bbolt files', Object.keys(CONTRACTS)));

  for (const c of CASES) {
    it(`${c.file}: damaged copies never hang, and throw only named Errors where the caller catches`, () => {
      const buf = c.buf();
      const db = parseBolt(buf);
      const { pageSize, highWater } = db.meta;
      const tops = bucketNames(db)!;
      const intactProblems: Problem[] = [];
      c.parse?.(db, intactProblems);
      assert.deepEqual(intactProblems, []);
      fc.assert(
        fc.property(mutationsArb(highWater * pageSize, pageSize), (ms) => {
          const damaged = mayThrow('parseBolt', () => parseBolt(mutate(buf, ms, pageSize)));
          if (damaged === null) return;
          readAll(damaged, tops);
          for (const [name, fn] of c.throwing ?? []) mayThrow(name, () => fn(damaged));
          if (c.parse === undefined) return;
          const problems: Problem[] = [];
          mustNotThrow(parserName(c), () => c.parse!(damaged, problems));
          assertNamedProblems(parserName(c), problems);
        }),
        runs(c.numRuns),
      );
    });
  }

  // The claim containerd-corrupt.test.ts makes at fixed steps, at random places and several at
  // once: a byte inverted is a big change (a size past the page, a count past the file, a byte
  // that is no UTF-8 or no varint's), so every record read is the file's (of the version the
  // meta page chosen holds) or has a problem beside it, and a record lost is named.
  for (const c of CASES.filter((c) => c.parse !== undefined)) {
    it(`${c.file}: bytes inverted anywhere in its pages: every record right or flagged, none lost unnamed`, () => {
      const buf = c.buf();
      const db = parseBolt(buf);
      const versions = new Map([db, parseBolt(previousVersion(buf))].map((d) => [d.meta.txid, c.parse!(d, [])]));
      const source = sourceOf(c);
      fc.assert(
        fc.property(fc.uniqueArray(fc.nat(db.meta.highWater * db.meta.pageSize - 1), { minLength: 1, maxLength: 3 }), (at) => {
          const damaged = mayThrow('parseBolt', () => parseBolt(mutate(buf, at.map((a) => ({ kind: 'byte' as const, at: a, value: buf[a]! ^ 0xff })), db.meta.pageSize)));
          if (damaged === null) return;
          const problems: Problem[] = [];
          const records = mustNotThrow(parserName(c), () => c.parse!(damaged, problems));
          const version = versions.get(damaged.meta.txid)!;
          assert.deepEqual(unflagged(version, records, problems, source), [], `bytes ${at.join(', ')}`);
          const seen = new Set(records.map((r) => JSON.stringify(r.path)));
          const lost = version.filter((r) => !seen.has(JSON.stringify(r.path)));
          if (lost.length > 0) assert.ok(problems.length > 0, `bytes ${at.join(', ')}: ${lost.length} records lost without a problem, first ${JSON.stringify(lost[0]!.path)}`);
        }),
        runs(c.numRuns / 2),
      );
    });
  }

  it('varints, Go times and digests: any bytes decode or say why, and what Go writes reads back', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 20 }), fc.maxSafeNat(), fc.integer({ min: -(2 ** 52), max: 2 ** 52 - 1 }), fc.date({ min: new Date(0), max: new Date(8.6e15), noInvalidDate: true }), fc.string(), (bytes, n, i, date, text) => {
        const b = Buffer.from(bytes);
        mustNotThrow('varint', () => [decodeUvarint(b), decodeVarint(b), parseUvarint(b), parseVarint(b), decodeUvarint(b, bytes.length + 3), parseGoTime(b), isDigest(text)]);
        assert.deepEqual(mustNotThrow('varint', () => parseUvarint(uvarint(n))), { value: n });
        assert.deepEqual(mustNotThrow('varint', () => parseVarint(varint(i))), { value: i });
        assert.equal(mustNotThrow('varint', () => parseGoTime(goTime(date.toISOString()))), date.toISOString());
      }),
      runs(500),
    );
  });
});
