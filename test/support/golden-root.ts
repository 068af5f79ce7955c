// The recorded docker root of the golden test: where it lives, what the recording script put in
// it, and the tar flags that keep what overlay2 needs. Shared by record-root.ts (which makes it, by
// hand) and golden-run.ts (which extracts and scans it for test/integration/golden*.test.ts);
// nothing here starts a daemon.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { cleanupSteps } from './cleanup.js';
import { mountsUnder, run } from './dockerd.js';
import { REPO_ROOT } from './oracles.js';

export const KiB = 1024;

/** The sizes the recording script writes; the golden test checks the report against them. */
export const GOLDEN = {
  /** /mid.bin, the middle layer shared-a and shared-b share (the classic builder's cache). */
  midBytes: 64 * KiB,
  /** /b.bin, shared-b's own top layer. */
  bBytes: 4 * KiB,
  /** waste: `COPY small.bin /small.bin` then `RUN rm /small.bin`. */
  removedBytes: 64 * KiB,
  /** overwrite: /two.bin written in one RUN and again in the next. */
  overwrittenBytes: 32 * KiB,
  /** opaque: /d/big.bin and /d/keep.txt under /d, then `rm -rf /d && mkdir /d`. */
  opaqueBigBytes: 32 * KiB,
  opaqueKeepText: 'keep\n',
  /** hardlink: /h1.bin and /h2.bin, one inode. */
  hardlinkBytes: 32 * KiB,
  /** buildkit: /bk.bin written by a RUN, and a COPY of hello.txt. */
  buildkitBytes: 16 * KiB,
  buildkitHello: 'hello from buildkit\n',
  /** copyup: `echo x >> /two.bin` on the overwrite image: the whole file is copied up. */
  copyUpAppend: 'x\n',
  /** logger: writes this into the named volume and prints this many lines. */
  volumeBytes: 64 * KiB,
  logLines: 300,
  /** overlay2/<64 hex>/diff/leaked.bin, made by hand. */
  leakedBytes: 16 * KiB,
  volumeName: 'ldu-vol',
} as const;

export const FIXTURE_DIR = path.join(REPO_ROOT, 'test', 'fixtures', 'docker-root');
export const ROOT_TAR = path.join(FIXTURE_DIR, 'root.tar.gz');
/** What Docker itself said at recording time (ids, /system/df), written by record-root.ts. */
export const RECORDING_JSON = path.join(FIXTURE_DIR, 'recording.json');

/**
 * GNU tar flags both ways. POSIX (pax) format, since GNU tar keeps xattrs only in pax headers:
 * trusted.overlay.opaque marks overlay2's opaque directories. Whiteouts (0/0 char devices),
 * hardlinks and symlinks are tar's own; numeric owners, so no name lookups on either host;
 * --sparse keeps holes as holes (bbolt files), so st_blocks match after extraction.
 */
export const TAR_COMMON = ['--xattrs', "--xattrs-include=trusted.*", '--numeric-owner'];
export const TAR_CREATE = [
  // gzip -n: no name or time in the gzip header, so the same tree gives the same bytes
  '--create', '--use-compress-program=gzip -9n', '--format=posix', '--sparse', '--sort=name',
  // no atime/ctime pax records: the archive then holds only what extraction restores
  '--pax-option=delete=atime,delete=ctime',
  ...TAR_COMMON,
];
export const TAR_EXTRACT = ['--extract', '--gzip', '--same-owner', '--same-permissions', ...TAR_COMMON];

/** What record-root.ts writes beside the tar. */
export interface Recording {
  dockerVersion: string;
  kernel: string;
  recordedAt: string;
  sizes: typeof GOLDEN;
  images: Record<string, { tag: string; id: string; diffIds: string[]; chainIds: string[] }>;
  containers: Record<string, { name: string; id: string; imageId: string }>;
  volume: string;
  leaked: { id: string; file: string; bytes: number };
  /** Every 25-character directory under overlay2/ (BuildKit's snapshots). */
  buildKitDirs: string[];
  /** layerdb, by chain id: cache-id and Docker's apparent size of the layer. */
  layerdb: Record<string, { diffId: string | null; cacheId: string | null; size: number | null; parent: string | null }>;
  /** GET /system/df and /containers/json?all=1&size=1 just before the daemon stopped. */
  systemDf: unknown;
  containersWithSize: unknown;
  /** Paths (relative to the root) left out of the tar, and why. */
  excluded: Record<string, string>;
}

/**
 * mkfs.ext4 with every option that shapes allocation fixed, so that st_blocks (and so every disk
 * figure, and the filesystem's size and avail) come out the same on each run and each host with
 * this kernel: 4 KiB blocks, 256-byte inodes (trusted.* xattrs fit in the inode, no xattr block),
 * an explicit feature list (not /etc/mke2fs.conf's), a fixed journal size, no reserved blocks,
 * inode tables and journal written now (no lazy init running beside the test) and a fixed
 * directory hash seed (htree splits, and so directory sizes and readdir order, depend on it).
 */
export const MKFS_EXT4 = [
  '-q', '-F', '-t', 'ext4',
  '-b', '4096', '-I', '256', '-i', '16384', '-m', '0', '-J', 'size=4',
  '-O', 'none,has_journal,ext_attr,resize_inode,dir_index,filetype,extent,64bit,flex_bg,sparse_super,large_file,huge_file,dir_nlink,extra_isize',
  '-E', 'lazy_itable_init=0,lazy_journal_init=0,hash_seed=6c617965-7264-7500-0000-000000000001,root_owner=0:0',
];
export const IMAGE_SIZE = '64M';

export interface ExtractedRoot {
  /** The docker root: `<mountpoint>/docker`. */
  root: string;
  mountpoint: string;
  image: string;
  /** The loop device the image is attached to ('' before it is). */
  loop: string;
  /** Unmounts (lazily if busy), detaches the loop device(s) and removes `work`. Idempotent; every step runs. */
  cleanUp(): Promise<void>;
  /** The same, synchronously: for process 'exit', when the test run dies before its after hook. */
  cleanUpSync(): void;
}

/**
 * Makes an ext4 image in `work`, attaches it to a loop device, mounts it at `work/mnt` and
 * extracts the recorded root into `work/mnt/docker`. On any failure it cleans up before throwing.
 */
export async function extractRecordedRoot(work: string, tarFile = ROOT_TAR): Promise<ExtractedRoot> {
  const image = path.join(work, 'root.img');
  const mountpoint = path.join(work, 'mnt');
  const root = path.join(mountpoint, 'docker');
  const loops = (): string[] => {
    const r = spawnSync('losetup', ['-j', image], { encoding: 'utf8' });
    return (r.stdout ?? '').split('\n').map((l) => l.split(':')[0]!).filter(Boolean);
  };
  let done = false;
  const x: ExtractedRoot = {
    root,
    mountpoint,
    image,
    loop: '',
    async cleanUp() {
      if (done) return;
      const steps = cleanupSteps();
      for (const mp of mountsUnder(mountpoint, true)) {
        await steps.attempt(() => run('umount', [mp]).catch(() => run('umount', ['-l', mp])));
      }
      for (const dev of new Set([...(x.loop ? [x.loop] : []), ...loops()])) {
        await steps.attempt(() => run('losetup', ['-d', dev]).catch(async (e: Error) => {
          // already detached (autoclear) is fine; anything still attached is not
          if (loops().includes(dev)) throw e;
        }));
      }
      await steps.attempt(() => rm(work, { recursive: true, force: true }));
      steps.done(); // the first failure; cleanUpSync at exit then tries again
      done = true;
    },
    cleanUpSync() {
      if (done) return;
      for (const mp of mountsUnder(mountpoint, true)) {
        if (spawnSync('umount', [mp]).status !== 0) spawnSync('umount', ['-l', mp]);
      }
      for (const dev of new Set([...(x.loop ? [x.loop] : []), ...loops()])) spawnSync('losetup', ['-d', dev]);
      if (mountsUnder(mountpoint, true).length === 0) rmSync(work, { recursive: true, force: true });
      done = true;
    },
  };
  try {
    await mkdir(mountpoint, { recursive: true });
    await run('truncate', ['-s', IMAGE_SIZE, image]);
    await run('mkfs.ext4', [...MKFS_EXT4, image]);
    x.loop = (await run('losetup', ['--find', '--show', image])).trim();
    await run('mount', ['-t', 'ext4', x.loop, mountpoint]);
    await mkdir(root);
    await run('tar', [...TAR_EXTRACT, '--file', tarFile, '-C', root]);
    // Delayed allocation: st_blocks are final once the data is written back.
    await run('sync', ['-f', root]);
    return x;
  } catch (e) {
    await x.cleanUp().catch(() => undefined);
    throw e;
  }
}
