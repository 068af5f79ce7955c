// The fuzzers' finds (fuzz-*.test.ts), each as the smallest input that showed it, kept as literals
// so that they stay fixed whatever the fuzzers draw next.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseBolt, walk } from '../../collectors/lib/bbolt.js';
import { parseMetaDb } from '../../collectors/stores/containerd/meta-db.js';
import type { Problem } from '../../collectors/lib/facts.js';
import { parseContainerConfig } from '../../collectors/sources/containers.js';
import { parseVolumeLabels } from '../../collectors/sources/volumes.js';
import { boltFile, metaPage } from './containerd-bolt-writer.js';
import { parseTargetDoc } from '../../collectors/stores/containerd/manifests.js';
import { FindRecordParser } from '../../collectors/walk/find-records.js';

describe('fuzz regressions', () => {
  it("find's records: one without its type letter, with an empty number, or cut short is refused, not read from the next", () => {
    for (const text of [' 0 0 0 0 0 0 \0', 'f  1 2 3 4 5 n\0', 'fx1 2 3 4 5 6 n\0', 'f\0      x 1\0']) {
      const parser = new FindRecordParser();
      parser.push(Buffer.from(text, 'latin1'));
      const read: string[] = [];
      assert.throws(() => parser.drain((r) => read.push(r.type)), /find printed a record this parser does not know/, JSON.stringify(text));
      assert.deepEqual(read, [], JSON.stringify(text));
    }
  });

  it('a containerd manifest blob that is JSON but no object (null, a number, a list) is a named Error, not a TypeError', () => {
    for (const text of ['null', '7', '[]', '"x"']) assert.throws(() => parseTargetDoc(text, null), { name: 'Error', message: 'not a JSON object' }, text);
  });

  it('config.v2.json: a Name that is no string is no name, and JSON that is no object a named Error (both were TypeErrors)', () => {
    const id = '0'.repeat(64);
    assert.equal(parseContainerConfig(`{"ID":"${id}","Name":[]}`).name, '');
    for (const text of ['null', '1']) assert.throws(() => parseContainerConfig(text), { name: 'Error', message: 'not a JSON object' }, text);
  });

  it("volumes/metadata.db: a broken page under the volumes bucket is a problem, not an exception out of readVolumes; a record of JSON null has no labels", () => {
    const buf = readFileSync(new URL('../../../test/fixtures/fuzz/volumes-metadata.db', import.meta.url));
    buf[12288] = buf[12288]! ^ 0xff; // page 3's id: "page 3 says it is page 252"
    const problems: Problem[] = [];
    assert.deepEqual(parseVolumeLabels(parseBolt(buf), problems, 'metadata.db'), new Map());
    assert.deepEqual(problems.map((p) => p.path), ['metadata.db volumes']);
    assert.match(problems[0]!.message, /^unreadable, no volume taken for anonymous: bbolt: page 3 says it is page 252/);
    const db = parseBolt(boltFile({ volumes: { a: 'null', b: '{"Labels":"ab"}', c: '{"Labels":{"k":"v","n":1}}' } }));
    const none: Problem[] = [];
    assert.deepEqual([...parseVolumeLabels(db, none, 'metadata.db')], [['a', {}], ['b', {}], ['c', { k: 'v' }]]);
    assert.deepEqual(none, []);
  });

  it('volumes/metadata.db without its volumes bucket (its name damaged) is named, not read as a store with no labels', () => {
    const buf = readFileSync(new URL('../../../test/fixtures/fuzz/volumes-metadata.db', import.meta.url));
    buf[12320] = buf[12320]! ^ 0xff; // the first byte of the key "volumes"
    const problems: Problem[] = [];
    assert.deepEqual(parseVolumeLabels(parseBolt(buf), problems, 'metadata.db'), new Map());
    assert.deepEqual(problems.map((p) => p.path), ['metadata.db']);
    assert.match(problems[0]!.message, /^no volumes bucket/);
  });

  // Two entries that share their bucket's bytes, at each level of a chain, double the work per
  // level: 2^50 visits from one 8 KiB page. Each place in the file is now read once.
  it('bbolt: inline buckets whose entries share one nested inline bucket, level after level, end at once, named', () => {
    const buf = boltFile({ top: { pad: Buffer.alloc(3700) } });
    const level = (depth: number): Buffer => {
      const page = Buffer.alloc(16);
      page.writeUInt16LE(0x02, 8);
      if (depth === 0) return page;
      const below = Buffer.concat([Buffer.alloc(16), level(depth - 1)]); // root 0: inline
      page.writeUInt16LE(2, 10);
      const elements = Buffer.alloc(32);
      for (const i of [0, 1]) {
        elements.writeUInt32LE(1, i * 16); // a bucket
        elements.writeUInt32LE(32 - i * 16, i * 16 + 4); // both to the one key "k" after the elements
        elements.writeUInt32LE(1, i * 16 + 8);
        elements.writeUInt32LE(below.length, i * 16 + 12);
      }
      return Buffer.concat([page, elements, Buffer.from('k'), below]);
    };
    level(50).copy(buf, 2 * 4096 + 51); // over top's inline page, after its 16-byte bucket header
    const start = performance.now();
    assert.throws(() => walk(parseBolt(buf), () => {}), /bbolt: the inline bucket at byte \d+ is reached twice/);
    const problems: Problem[] = [];
    parseMetaDb(parseBolt(buf), problems);
    assert.ok(performance.now() - start < 200);
    assert.ok(problems.some((p) => /another bucket lies at its place in the file/.test(p.message)), JSON.stringify(problems));
  });

  it('bbolt: buckets whose entries share one root page, page after page, end at once, named', () => {
    const PS = 4096;
    const pages = 40;
    const body = Buffer.alloc(pages * PS);
    // Page 2 holds bucket "v1" rooted at page 3; pages 3.. each hold buckets "a" and "b", both
    // rooted at the next page; the last is an empty leaf.
    for (let pgid = 2; pgid < pages + 2; pgid++) {
      const off = (pgid - 2) * PS;
      const keys = pgid === 2 ? ['v1'] : pgid === pages + 1 ? [] : ['a', 'b'];
      body.writeBigUInt64LE(BigInt(pgid), off);
      body.writeUInt16LE(0x02, off + 8);
      body.writeUInt16LE(keys.length, off + 10);
      let data = off + 16 + keys.length * 16;
      keys.forEach((key, i) => {
        const e = off + 16 + i * 16;
        body.writeUInt32LE(1, e);
        body.writeUInt32LE(data - e, e + 4);
        body.writeUInt32LE(key.length, e + 8);
        body.writeUInt32LE(16, e + 12);
        data += body.write(key, data, 'latin1');
        body.writeBigUInt64LE(BigInt(pgid + 1), data);
        data += 16;
      });
    }
    const buf = Buffer.concat([metaPage(0, 2, pages + 2, 2), metaPage(1, 2, pages + 2, 1), body]);
    const start = performance.now();
    const problems: Problem[] = [];
    parseMetaDb(parseBolt(buf), problems);
    assert.ok(performance.now() - start < 200, `${performance.now() - start} ms`);
    assert.ok(problems.some((p) => /another bucket lies at its place in the file/.test(p.message)), JSON.stringify(problems));
  });
});
