// The d_type probe: superblocks of real ext4 and XFS images (mkfs), and the readdir fallback on
// the host's /tmp and on a loop-mounted ext4 without the filetype feature. parseSuperblock on
// hand-made buffers is in test/unit/dtype.test.ts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSuperblock, probeDType, readSuperblock, readdirProbe } from '../../collectors/host/dtype.js';
import { hostPaths } from '../../collectors/host/paths.js';

const host = hostPaths();

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.error?.message || `exit ${r.status}`}`);
  return r.stdout;
}

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

const isRoot = process.getuid?.() === 0;

describe('parseSuperblock on real ext4 images', function () {
  let dir = '';
  before(function () {
    if (!have('mkfs.ext4') || !have('truncate')) this.skip();
    dir = mkdtempSync(join(tmpdir(), 'ldu-sb-'));
    for (const [name, opts] of [['with.img', []], ['without.img', ['-O', '^filetype']]] as const) {
      sh('truncate', ['-s', '64M', join(dir, name)]);
      sh('mkfs.ext4', ['-q', '-F', ...opts, join(dir, name)]);
    }
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('mkfs.ext4 (default features) has filetype', () => {
    assert.deepEqual(parseSuperblock(readSuperblock(join(dir, 'with.img'))), { fs: 'ext', dType: true });
  });

  it('mkfs.ext4 -O ^filetype lacks it', () => {
    assert.deepEqual(parseSuperblock(readSuperblock(join(dir, 'without.img'))), { fs: 'ext', dType: false });
  });
});

describe('parseSuperblock on real XFS images', function () {
  let dir = '';
  before(function () {
    if (!have('mkfs.xfs') || !have('truncate')) this.skip();
    dir = mkdtempSync(join(tmpdir(), 'ldu-xfs-'));
    // v5 (crc=1) always has ftype; v4 (crc=0) is where ftype=0, the d_type trap, can still be made.
    const images = [
      ['v5.img', []],
      ['v4-ftype0.img', ['-m', 'crc=0', '-n', 'ftype=0']],
      ['v4-ftype1.img', ['-m', 'crc=0', '-n', 'ftype=1']],
    ] as const;
    for (const [name, opts] of images) {
      sh('truncate', ['-s', '320M', join(dir, name)]);
      sh('mkfs.xfs', ['-q', '-f', ...opts, join(dir, name)]);
    }
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('mkfs.xfs (v5) has ftype', () => {
    assert.deepEqual(parseSuperblock(readSuperblock(join(dir, 'v5.img'))), { fs: 'xfs', dType: true });
  });

  it('mkfs.xfs -m crc=0 -n ftype=0 lacks it; with ftype=1 it has it', () => {
    assert.deepEqual(parseSuperblock(readSuperblock(join(dir, 'v4-ftype0.img'))), { fs: 'xfs', dType: false });
    assert.deepEqual(parseSuperblock(readSuperblock(join(dir, 'v4-ftype1.img'))), { fs: 'xfs', dType: true });
  });
});

describe('probeDType without devices', () => {
  it('names where the filesystem is mounted, not the bind of the data root onto itself', () => {
    const t = tmpdir();
    const mountinfo =
      `27 1 0:9999 / / rw,relatime - ext4 /dev/nonexistent rw\n` +
      `43 27 0:9999 ${t} ${t} rw,relatime shared:2 - ext4 /dev/nonexistent rw\n`;
    const p = probeDType(t, { host, mountinfo });
    assert.equal(p.mountpoint, '/');
    assert.equal(p.fstype, 'ext4');
    assert.equal(p.method, 'readdir');
    assert.equal(p.dType, true);
  });

  it('an unreadable mountinfo still leaves the readdir probe', () => {
    const p = probeDType(tmpdir(), { host, mountinfo: '' });
    assert.equal(p.fstype, null);
    assert.equal(p.method, 'readdir');
    assert.equal(p.dType, true);
  });
});

describe('probeDType', function () {
  this.timeout(60_000);
  let dir = '';
  let mnt = '';
  let img = '';
  let mounted = false;

  before(function () {
    if (!isRoot || !have('mkfs.ext4') || !have('losetup')) this.skip();
    dir = mkdtempSync(join(tmpdir(), 'ldu-probe-'));
    img = join(dir, 'nofiletype.img');
    mnt = join(dir, 'mnt');
    mkdirSync(mnt);
    sh('truncate', ['-s', '64M', img]);
    sh('mkfs.ext4', ['-q', '-F', '-O', '^filetype', img]);
    try {
      sh('mount', ['-o', 'loop', img, mnt]);
    } catch {
      this.skip(); // no loop devices here
    }
    mounted = true;
    mkdirSync(join(mnt, 'image'));
    writeFileSync(join(mnt, 'repositories.json'), '{}');
  });

  after(() => {
    if (mounted) spawnSync('umount', [mnt]);
    if (img) {
      // mount -o loop sets autoclear; detach whatever is still attached all the same.
      const attached = spawnSync('losetup', ['-j', img], { encoding: 'utf8' }).stdout;
      for (const line of attached.split('\n')) {
        const dev = line.split(':')[0];
        if (dev) spawnSync('losetup', ['-d', dev]);
      }
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('readdir: DirentFromStats on ext4 without filetype, plain Dirents on /tmp', () => {
    assert.equal(readdirProbe(mnt), false);
    assert.equal(readdirProbe(tmpdir()), true);
  });

  it('readdir of an empty or missing directory cannot tell', () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    assert.equal(readdirProbe(empty), null);
    assert.equal(readdirProbe(join(dir, 'missing')), null);
  });

  it('reads the loop device superblock of the mount', () => {
    const p = probeDType(mnt, { host });
    assert.equal(p.method, 'superblock');
    assert.equal(p.dType, false);
    assert.equal(p.fstype, 'ext4');
    assert.match(p.device ?? '', /^\/dev\/loop\d+$/);
    assert.equal(p.mountpoint, mnt);
  });

  it('/tmp has d_type, whichever probe answers', () => {
    const p = probeDType(tmpdir(), { host });
    assert.equal(p.dType, true);
    assert.notEqual(p.method, 'none');
  });

  it('falls back to readdir when the device cannot be opened, and still answers', () => {
    const fake = (mp: string) => `36 25 0:9999 / ${mp} rw,relatime shared:1 - ext4 /dev/nonexistent rw\n`;
    const noDev = probeDType(mnt, { host, mountinfo: fake(mnt) });
    assert.equal(noDev.method, 'readdir');
    assert.equal(noDev.dType, false);
    assert.equal(noDev.device, '/dev/nonexistent');
    assert.match(noDev.note ?? '', /\/dev\/nonexistent: missing/);

    const onTmp = probeDType(tmpdir(), { host, mountinfo: fake('/') });
    assert.equal(onTmp.method, 'readdir');
    assert.equal(onTmp.dType, true);
  });

  it('a source that is no device path is resolved through /sys/dev/block/M:m/uevent', () => {
    const line = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === mnt);
    assert.ok(line, 'the loop mount is in mountinfo');
    const majMin = line.split(' ')[2]!;
    if (!existsSync(`/sys/dev/block/${majMin}/uevent`)) return;
    const p = probeDType(mnt, { host, mountinfo: `36 25 ${majMin} / ${mnt} rw - ext4 none rw\n` });
    assert.equal(p.method, 'superblock');
    assert.equal(p.dType, false);
    assert.match(p.device ?? '', /^\/dev\/loop\d+$/);
  });
});
