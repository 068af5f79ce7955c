import assert from 'node:assert/strict';
import { FindRecordParser, parseFindError, recordName, type FindRecord } from '../../collectors/walk/find-records.js';
import { childHash, childHashBytes, hashPath } from '../../collectors/lib/path-index.js';

type Plain = Omit<FindRecord, 'bytes' | 'nameStart' | 'nameEnd'> & { name: string };

/** Feeds `chunks` to one parser and copies out every record it hands over. */
function parse(chunks: Buffer[]): Plain[] {
  const parser = new FindRecordParser();
  const out: Plain[] = [];
  for (const c of chunks) {
    parser.push(c);
    parser.drain((r) => {
      const { bytes: _b, nameStart: _s, nameEnd: _e, ...rest } = r;
      out.push({ ...rest, name: recordName(r) });
    });
  }
  assert.equal(parser.pending, false, 'no record left half read');
  return out;
}

// As find prints them with FIND_FORMAT: type, dev, ino, nlink, size, blocks, depth, name, NUL.
const OUTPUT = Buffer.concat([
  Buffer.from('d 2049 131073 3 4096 8 0 diff\0'),
  Buffer.from('f 2049 131074 1 5 8 1 a file with spaces\0'),
  Buffer.from('f 2049 131075 2 1048576 2048 1 line\nbreak\0'),
  Buffer.from('c 2049 131076 2 0 0 1 gone\0'),
  Buffer.from('d 2049 131077 2 4096 8 1 café\0'),
  Buffer.from('l 2049 131078 1 9007199254740991 0 2 '),
  Buffer.from([0x6c, 0x61, 0x74, 0x69, 0x6e, 0xe9, 0]), // "latin" + a lone 0xE9: not UTF-8
]);

const EXPECTED: Plain[] = [
  { type: 'd', dev: 2049, ino: 131073, nlink: 3, size: 4096, blocks: 8, depth: 0, name: 'diff' },
  { type: 'f', dev: 2049, ino: 131074, nlink: 1, size: 5, blocks: 8, depth: 1, name: 'a file with spaces' },
  { type: 'f', dev: 2049, ino: 131075, nlink: 2, size: 1048576, blocks: 2048, depth: 1, name: 'line\nbreak' },
  { type: 'c', dev: 2049, ino: 131076, nlink: 2, size: 0, blocks: 0, depth: 1, name: 'gone' },
  { type: 'd', dev: 2049, ino: 131077, nlink: 2, size: 4096, blocks: 8, depth: 1, name: 'café' },
  // Decoded as Node decodes a readdir name with the same bytes: U+FFFD for the stray byte.
  { type: 'l', dev: 2049, ino: 131078, nlink: 1, size: 9007199254740991, blocks: 0, depth: 2, name: 'latin\ufffd' },
];

describe('FindRecordParser', () => {
  it('reads every field of every record, names with spaces, newlines and non-ASCII bytes included', () => {
    assert.deepEqual(parse([OUTPUT]), EXPECTED);
  });

  it('gives the same records however the output is cut into chunks, down to one byte each', () => {
    for (const size of [1, 2, 7, 31, 64]) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < OUTPUT.length; i += size) chunks.push(OUTPUT.subarray(i, i + size));
      assert.deepEqual(parse(chunks), EXPECTED, `chunks of ${size}`);
      // Chunks may also pile up before they are read.
      const parser = new FindRecordParser();
      for (const c of chunks) parser.push(c);
      const names: string[] = [];
      parser.drain((r) => names.push(recordName(r)));
      assert.deepEqual(names, EXPECTED.map((e) => e.name), `chunks of ${size}, read at once`);
      assert.equal(parser.pending, false);
    }
  });

  it('keeps a cut record pending until the rest arrives', () => {
    const parser = new FindRecordParser();
    let n = 0;
    parser.push(Buffer.from('f 1 2 1 3 8 1 ab'));
    assert.equal(parser.drain(() => n++), false);
    assert.equal(n, 0);
    assert.equal(parser.pending, true);
    parser.push(Buffer.from('c\0'));
    parser.drain((r) => {
      n++;
      assert.equal(recordName(r), 'abc');
    });
    assert.equal(n, 1);
    assert.equal(parser.pending, false);
  });

  it('stops when told to (every 256 records) and goes on where it stopped', () => {
    const parser = new FindRecordParser();
    parser.push(Buffer.from(Array.from({ length: 1000 }, (_, i) => `f 1 ${i + 10} 1 1 8 1 f${i}\0`).join('')));
    const inos: number[] = [];
    let asked = 0;
    assert.equal(parser.drain((r) => inos.push(r.ino), () => ++asked < 2), true);
    assert.equal(inos.length, 511); // stopped at the second question, before record 512
    assert.equal(parser.drain((r) => inos.push(r.ino)), false);
    assert.deepEqual(inos, Array.from({ length: 1000 }, (_, i) => i + 10));
  });

  it('refuses a record it does not know instead of counting nonsense', () => {
    assert.throws(() => parse([Buffer.from('f 2049 x 1 5 8 1 name\0')]), /does not know/);
    assert.throws(() => parse([Buffer.from('f 2049 12\0')]), /does not know/);
  });
});

describe('childHashBytes', () => {
  it('hashes a name given as bytes as childHash hashes it as text (UTF-8), ASCII or not', () => {
    for (const name of ['a', 'diff', 'f12345', 'a file with spaces', '.wh..wh..opq', '~!@#$%^&*()_+', 'café', '日本語', 'line\nbreak']) {
      const bytes = Buffer.concat([Buffer.from('xx'), Buffer.from(name), Buffer.from('yy')]);
      const n = Buffer.byteLength(name);
      assert.equal(childHashBytes(77, bytes, 2, 2 + n), childHash(77, name), name);
      assert.equal(childHash(77, Buffer.from(name)), childHash(77, name), name);
    }
  });

  it('keeps names that are no UTF-8 apart: two that both decode to U+FFFD hash differently', () => {
    const [a, b] = [Buffer.from([0x66, 0xff]), Buffer.from([0x66, 0xfe])];
    assert.equal(a.toString('utf8'), b.toString('utf8'), 'lossy decoding makes them one name');
    assert.notEqual(childHash(77, a), childHash(77, b));
    assert.notEqual(childHash(77, a), childHash(77, a.toString('utf8')));
  });

  it('hashPath splits bytes on "/" as it splits text', () => {
    const raw = Buffer.concat([Buffer.from('usr/'), Buffer.from([0xff, 0x2f, 0x80]), Buffer.from('/x')]);
    assert.equal(hashPath(raw), childHash(childHash(childHash(hashPath('usr'), Buffer.from([0xff])), Buffer.from([0x80])), 'x'));
    assert.equal(hashPath(Buffer.from('/a//b/')), hashPath('a/b'));
  });
});

describe('parseFindError', () => {
  it('maps what find says (LC_ALL=C) to the errors the Node walker meets', () => {
    const denied = parseFindError("find: '/var/lib/docker/overlay2/abc/diff/secret': Permission denied");
    assert.equal(denied.path, '/var/lib/docker/overlay2/abc/diff/secret');
    assert.equal((denied.error as NodeJS.ErrnoException).code, 'EACCES');
    const gone = parseFindError("find: '/x/it's here': No such file or directory");
    assert.equal(gone.path, "/x/it's here");
    assert.equal((gone.error as NodeJS.ErrnoException).code, 'ENOENT');
    const other = parseFindError('find: fts_read failed: Input/output error');
    assert.equal(other.path, null);
    assert.equal(other.error.message, 'fts_read failed: Input/output error');
  });
});
