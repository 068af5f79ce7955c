import assert from 'node:assert/strict';
import {
  decodeUvarint,
  decodeVarint,
  parseGoTime,
  parseUvarint,
  parseVarint,
} from '../../collectors/stores/containerd/varint.js';

const hex = (h: string): Buffer => Buffer.from(h, 'hex');

/** Go's binary.PutUvarint, for values past what the fixtures hold. */
function putUvarint(v: bigint): Buffer {
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Buffer.from(out);
}

/** Go's time.MarshalBinary, version 1. */
function goTime(seconds: bigint, nanos: number, offsetMinutes: number): Buffer {
  const b = Buffer.alloc(15);
  b[0] = 1;
  b.writeBigInt64BE(seconds, 1);
  b.writeUInt32BE(nanos, 9);
  b.writeInt16BE(offsetMinutes, 13);
  return b;
}

const UNIX_EPOCH_IN_GO = 62135596800n;

describe('containerd varints', () => {
  it('reads the unsigned ids of metadata.db (0x01 = 1, 0x11 = 17)', () => {
    assert.deepEqual(parseUvarint(hex('01')), { value: 1 });
    assert.deepEqual(parseUvarint(hex('11')), { value: 17 });
    assert.deepEqual(parseUvarint(hex('00')), { value: 0 });
    assert.deepEqual(parseUvarint(hex('ac02')), { value: 300 });
  });

  it('reads the signed sizes of meta.db and metadata.db (zigzag)', () => {
    assert.deepEqual(parseVarint(hex('aa06')), { value: 405 });
    assert.deepEqual(parseVarint(hex('e6bc8201')), { value: 1068851 });
    assert.deepEqual(parseVarint(hex('06')), { value: 3 }); // v1/version
    assert.deepEqual(parseVarint(hex('8080f401')), { value: 1998848 }); // snapshot 1's size
    assert.deepEqual(parseVarint(hex('a204')), { value: 273 }); // and its inodes
    assert.deepEqual(parseVarint(hex('01')), { value: -1 });
    assert.deepEqual(parseVarint(hex('03')), { value: -2 });
    assert.deepEqual(parseVarint(hex('00')), { value: 0 });
  });

  it('decodes at an offset and says where the varint ends', () => {
    assert.deepEqual(decodeUvarint(hex('05aa06ff'), 1), { value: 810, end: 3 });
    assert.deepEqual(decodeVarint(hex('05aa06ff'), 1), { value: 405, end: 3 });
  });

  it('refuses a truncated varint instead of reading it as a smaller number', () => {
    for (const h of ['', '80', 'aa', 'e6bc82', 'ffffffffffffffffff']) {
      const r = parseVarint(hex(h));
      assert.ok('error' in r, `${h}: ${JSON.stringify(r)}`);
      assert.match(r.error, h === '' ? /empty/ : /truncated/);
    }
    assert.ok('error' in decodeUvarint(hex('01'), 1));
  });

  it('refuses overlong varints: a trailing zero byte, past 64 bits, past 10 bytes', () => {
    const cases: Array<[string, RegExp]> = [
      ['8000', /overlong/],
      ['aa8600', /overlong/],
      ['ffffffffffffffffff02', /overflows 64 bits/],
      ['ffffffffffffffffff81', /overflows 64 bits/],
      ['ffffffffffffffffffff01', /overflows 64 bits/],
    ];
    for (const [h, why] of cases) {
      const r = parseUvarint(hex(h));
      assert.ok('error' in r, h);
      assert.match(r.error, why, h);
    }
  });

  it('refuses bytes after the varint in a value that is one varint', () => {
    const r = parseVarint(hex('aa0600'));
    assert.ok('error' in r);
    assert.match(r.error, /1 bytes after the varint/);
  });

  it('refuses a value JavaScript cannot hold exactly, and reads the largest one it can', () => {
    const max = BigInt(Number.MAX_SAFE_INTEGER);
    assert.deepEqual(parseUvarint(putUvarint(max)), { value: Number.MAX_SAFE_INTEGER });
    assert.deepEqual(parseVarint(putUvarint(max * 2n)), { value: Number.MAX_SAFE_INTEGER });
    assert.deepEqual(parseVarint(putUvarint(max * 2n - 1n)), { value: -Number.MAX_SAFE_INTEGER });
    for (const v of [max + 1n, 2n ** 64n - 1n]) {
      const r = parseUvarint(putUvarint(v));
      assert.ok('error' in r && /beyond 2\^53/.test(r.error), String(v));
    }
    assert.ok('error' in parseVarint(putUvarint(max * 2n + 2n)));
  });
});

describe('Go binary times', () => {
  it('reads the fixture blob 1be6de256269’s createdat', () => {
    assert.equal(parseGoTime(hex('010000000ee2a0873829cd3d58ffff')), '2026-12-01T09:15:36.701Z');
  });

  it('gives the instant whatever the zone, and reads version 2', () => {
    const utc = parseGoTime(goTime(UNIX_EPOCH_IN_GO, 0, -1));
    assert.equal(utc, '1970-01-01T00:00:00.000Z');
    assert.equal(parseGoTime(goTime(UNIX_EPOCH_IN_GO, 0, 120)), utc);
    const v2 = Buffer.concat([goTime(UNIX_EPOCH_IN_GO + 1n, 999_999_999, 0), Buffer.from([30])]);
    v2[0] = 2;
    assert.equal(parseGoTime(v2), '1970-01-01T00:00:01.999Z');
    assert.equal(parseGoTime(goTime(0n, 0, -1)), '0001-01-01T00:00:00.000Z'); // Go's zero time
  });

  it('gives null for what is not such a time', () => {
    const good = hex('010000000ee2a0873829cd3d58ffff');
    const badVersion = Buffer.from(good);
    badVersion[0] = 3;
    const v2Short = Buffer.from(good);
    v2Short[0] = 2;
    const cases: Buffer[] = [
      Buffer.alloc(0),
      good.subarray(0, 14),
      Buffer.concat([good, hex('00')]),
      badVersion,
      v2Short,
      goTime(UNIX_EPOCH_IN_GO, 1_000_000_000, -1),
      goTime(2n ** 62n, 0, -1),
      goTime(-(2n ** 62n), 0, -1),
    ];
    for (const c of cases) assert.equal(parseGoTime(c), null, c.toString('hex'));
  });
});
