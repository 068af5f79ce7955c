// parseSuperblock on hand-made superblocks (ext4 and XFS, with and without d_type); the probes
// on real filesystems are in test/integration/dtype.test.ts.
import assert from 'node:assert/strict';
import { parseSuperblock } from '../../collectors/host/dtype.js';

function extBuffer(incompat: number): Buffer {
  const b = Buffer.alloc(4096);
  b.writeUInt16LE(0xef53, 1024 + 0x38);
  b.writeUInt32LE(incompat, 1024 + 0x60);
  return b;
}

function xfsBuffer(version: number, features2: number, incompat: number): Buffer {
  const b = Buffer.alloc(4096);
  b.write('XFSB', 0, 'latin1');
  b.writeUInt16BE(version | 0x80 /* some other versionnum bits */, 100);
  b.writeUInt32BE(features2, 200);
  b.writeUInt32BE(incompat, 216);
  return b;
}

describe('parseSuperblock', () => {
  it('ext4 with filetype (incompat 0x2 among others) has d_type', () => {
    // filetype | extents | 64bit | flex_bg, as mkfs.ext4 sets them
    assert.deepEqual(parseSuperblock(extBuffer(0x2 | 0x40 | 0x80 | 0x200)), { fs: 'ext', dType: true });
  });

  it('ext4 without filetype lacks d_type', () => {
    assert.deepEqual(parseSuperblock(extBuffer(0x40 | 0x80 | 0x200)), { fs: 'ext', dType: false });
  });

  it('XFS v5 with ftype has d_type; v5 without does not', () => {
    assert.deepEqual(parseSuperblock(xfsBuffer(5, 0, 0x1)), { fs: 'xfs', dType: true });
    assert.deepEqual(parseSuperblock(xfsBuffer(5, 0x200, 0)), { fs: 'xfs', dType: false }, 'v5 reads incompat, not features2');
  });

  it('XFS v4 reads ftype from sb_features2 (0x200)', () => {
    assert.deepEqual(parseSuperblock(xfsBuffer(4, 0x8, 0)), { fs: 'xfs', dType: false });
    assert.deepEqual(parseSuperblock(xfsBuffer(4, 0x8 | 0x200, 0)), { fs: 'xfs', dType: true });
  });

  it('anything else, and short buffers, are unknown', () => {
    assert.deepEqual(parseSuperblock(Buffer.alloc(4096)), { fs: 'unknown', dType: null });
    assert.deepEqual(parseSuperblock(Buffer.alloc(100)), { fs: 'unknown', dType: null });
    assert.deepEqual(parseSuperblock(Buffer.from('XFSB')), { fs: 'unknown', dType: null });
  });
});
