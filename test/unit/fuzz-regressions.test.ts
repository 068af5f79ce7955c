// The fuzzers' finds (fuzz-*.test.ts), each as the smallest input that showed it, kept as literals
// so that they stay fixed whatever the fuzzers draw next.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseBolt } from '../../collectors/lib/bbolt.js';
import type { Problem } from '../../collectors/lib/facts.js';
import { parseContainerConfig } from '../../collectors/sources/containers.js';
import { parseVolumeLabels } from '../../collectors/sources/volumes.js';
import { boltFile } from './containerd-bolt-writer.js';
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
});
