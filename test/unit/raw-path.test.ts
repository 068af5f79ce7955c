import assert from 'node:assert/strict';
import { displayPath, joinRaw, oneLine, rawName, shortPath } from '../../collectors/lib/raw-path.js';
import { opaqueDirOf, tarSplitName } from '../../collectors/walk/opaque-records.js';

describe('raw paths (names as bytes)', () => {
  it('joinRaw keeps text while names are UTF-8 and turns to bytes when one is not', () => {
    assert.equal(joinRaw('/a', Buffer.from('café')), '/a/café');
    const p = joinRaw('/a', Buffer.from([0x66, 0xff]));
    assert.ok(Buffer.isBuffer(p));
    assert.deepEqual(p, Buffer.from([0x2f, 0x61, 0x2f, 0x66, 0xff]));
    assert.deepEqual(joinRaw(p, Buffer.from('x')), Buffer.concat([p as Buffer, Buffer.from('/x')]));
    assert.equal(rawName(Buffer.from('ok')), 'ok');
    assert.equal(joinRaw('/', Buffer.from('a')), '/a');
    assert.equal(joinRaw('/x/', Buffer.from('a')), '/x/a');
  });

  it('displayPath writes the bytes that do not decode as \\xNN, so two such names read apart', () => {
    assert.equal(displayPath('/plain'), '/plain');
    assert.equal(displayPath(Buffer.from('/café')), '/café');
    assert.equal(displayPath(Buffer.from([0x66, 0xff])), 'f\\xff');
    assert.equal(displayPath(Buffer.from([0x66, 0xfe])), 'f\\xfe');
    assert.equal(displayPath(Buffer.concat([Buffer.from('é'), Buffer.from([0xc3, 0x28]), Buffer.from('日')])), 'é\\xc3(日');
  });

  it('a tar-split name that is not UTF-8 stays bytes, and so does its opaque directory', () => {
    const name = Buffer.concat([Buffer.from([0x64, 0xff]), Buffer.from('/.wh..wh..opq')]);
    const got = tarSplitName(`{"type":1,"name_raw":"${name.toString('base64')}"}`);
    assert.deepEqual(got, name);
    assert.deepEqual(opaqueDirOf(got!), Buffer.from([0x64, 0xff]));
    assert.equal(opaqueDirOf(Buffer.from('a/b')), null);
  });
});

describe('shortPath and oneLine (stderr)', () => {
  it('leaves a short path alone, cuts a long one in the middle to the limit, escapes control characters', () => {
    assert.equal(shortPath('/var/lib/docker/x'), '/var/lib/docker/x');
    const long = `/start/${'m'.repeat(500)}/end`;
    const s = shortPath(long, 21);
    assert.equal([...s].length, 21);
    assert.equal(s, '/start/mmm…mmmmmm/end');
    assert.equal(shortPath('a\nb\u001b'), 'a\\nb\\u001b');
    assert.equal(oneLine('x\ty'), 'x\\ty');
    assert.equal([...shortPath('é'.repeat(300))].length, 200, 'counts characters, not bytes');
  });
});
