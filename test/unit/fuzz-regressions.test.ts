// The fuzzers' finds (fuzz-*.test.ts), each as the smallest input that showed it, kept as literals
// so that they stay fixed whatever the fuzzers draw next.
import assert from 'node:assert/strict';
import { parseContainerConfig } from '../../collectors/sources/containers.js';
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
});
