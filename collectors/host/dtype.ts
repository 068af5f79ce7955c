// Whether the filesystem under the docker root records d_type (the file type in directory
// entries). overlay2 refuses a filesystem without it, and the daemon then falls back to vfs.
//
// Two probes, both from disk and both read-only:
//  1. the superblock: the root's mount (mountinfo) gives the device, opened O_RDONLY and its first
//     4 KiB parsed: ext2/3/4 `filetype`, XFS `ftype`;
//  2. when the device cannot be opened (a hardened unit, a container, no /dev node) or its
//     superblock is not one we know: readdir. Node's readdir({withFileTypes}) lstat()s every entry
//     whose d_type came back DT_UNKNOWN and hands back its internal `DirentFromStats` for it, so
//     one directory listing of the docker root tells, without writing anything.
import { closeSync, openSync, readFileSync, readSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describeError } from '../lib/errors.js';
import { mountFor, parseMountinfo, type MountEntry } from './filesystem.js';
import { procPath, sysPath, type HostPaths } from './paths.js';

export interface Superblock {
  fs: 'ext' | 'xfs' | 'unknown';
  /** Whether the filesystem stores d_type; null when the superblock is not one we know. */
  dType: boolean | null;
}

const EXT_SB = 1024;
const EXT_MAGIC = 0xef53;
const EXT_FEATURE_INCOMPAT_FILETYPE = 0x2;
const XFS_MAGIC = 0x58465342; // "XFSB"
const XFS_SB_VERSION_5 = 5;
const XFS_SB_FEAT_INCOMPAT_FTYPE = 0x1;
const XFS_SB_VERSION2_FTYPE = 0x200;

/** The first 4 KiB of a block device (or an image file) into what it is and whether it has d_type. */
export function parseSuperblock(buf: Buffer): Superblock {
  // XFS: big-endian, the superblock at byte 0.
  if (buf.length >= 220 && buf.readUInt32BE(0) === XFS_MAGIC) {
    const version = buf.readUInt16BE(100) & 0xf;
    if (version === XFS_SB_VERSION_5) return { fs: 'xfs', dType: (buf.readUInt32BE(216) & XFS_SB_FEAT_INCOMPAT_FTYPE) !== 0 };
    // v4: ftype lives in sb_features2 (only meaningful when the MOREBITS flag is set, which
    // mkfs.xfs sets whenever it sets a features2 bit).
    return { fs: 'xfs', dType: (buf.readUInt32BE(200) & XFS_SB_VERSION2_FTYPE) !== 0 };
  }
  // ext2/3/4: little-endian, the superblock at byte 1024.
  if (buf.length >= EXT_SB + 0x64 && buf.readUInt16LE(EXT_SB + 0x38) === EXT_MAGIC) {
    return { fs: 'ext', dType: (buf.readUInt32LE(EXT_SB + 0x60) & EXT_FEATURE_INCOMPAT_FILETYPE) !== 0 };
  }
  return { fs: 'unknown', dType: null };
}

/** Reads the first 4 KiB of a file or block device, read-only. */
export function readSuperblock(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(4096);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

export type DTypeMethod = 'superblock' | 'readdir' | 'none';

export interface DTypeProbe {
  dType: boolean | null;
  /** Which probe decided (`none`: neither could). */
  method: DTypeMethod;
  /** The filesystem type of the root's mount, as mountinfo names it (ext4, xfs, overlay…). */
  fstype: string | null;
  /** The block device whose superblock was read, else the mount's source. */
  device: string | null;
  mountpoint: string | null;
  /** Why the superblock was not read, when it was not. */
  note?: string;
}

export interface ProbeOptions {
  /** Where the host's /proc and /sys are. */
  host: HostPaths;
  /** mountinfo text instead of the host's `/proc/self/mountinfo`. */
  mountinfo?: string;
}

/** `/sys/dev/block/M:m/uevent` DEVNAME into `/dev/<name>`. */
function deviceByNumber(majMin: string, sysRoot: string): string | null {
  try {
    const uevent = readFileSync(join(sysRoot, 'dev', 'block', majMin, 'uevent'), 'utf8');
    const m = /^DEVNAME=(.+)$/m.exec(uevent);
    return m ? `/dev/${m[1]!.trim()}` : null;
  } catch {
    return null;
  }
}

function superblockProbe(mount: MountEntry, sysRoot: string): { device: string; sb: Superblock } | { note: string } {
  const candidates: string[] = [];
  if (mount.source.startsWith('/dev/')) candidates.push(mount.source);
  const byNumber = deviceByNumber(mount.device, sysRoot);
  if (byNumber && !candidates.includes(byNumber)) candidates.push(byNumber);
  if (candidates.length === 0) return { note: `mount source ${mount.source || '(none)'} (${mount.device}) is not a block device` };
  const notes: string[] = [];
  for (const dev of candidates) {
    try {
      if (!statSync(dev).isBlockDevice()) {
        notes.push(`${dev}: not a block device`);
        continue;
      }
      const sb = parseSuperblock(readSuperblock(dev));
      if (sb.dType !== null) return { device: dev, sb };
      notes.push(`${dev}: superblock is neither ext nor xfs`);
    } catch (e) {
      notes.push(`${dev}: ${describeError(e)}`);
    }
  }
  return { note: notes.join('; ') };
}

/**
 * The readdir probe: true when every entry came with its type, false when Node had to lstat one
 * (DT_UNKNOWN), null when the directory is empty or unreadable.
 */
export function readdirProbe(dir: string): boolean | null {
  try {
    const entries = readdirSync(dir, { withFileTypes: true });
    if (entries.length === 0) return null;
    return !entries.some((e) => e.constructor.name === 'DirentFromStats');
  } catch {
    return null;
  }
}

/** Whether the filesystem holding `root` has d_type, and which probe said so. */
export function probeDType(root: string, opts: ProbeOptions): DTypeProbe {
  let mount: MountEntry | null = null;
  let mountpoint: string | null = null;
  let note: string | undefined;
  try {
    const text = opts.mountinfo ?? readFileSync(procPath(opts.host, 'self', 'mountinfo'), 'utf8');
    const mounts = parseMountinfo(text);
    mount = mountFor(mounts, root);
    // dockerd bind-mounts its data root onto itself; a person wants where the filesystem itself
    // is mounted (the same device, its root), not the bind.
    mountpoint = mount ? (mounts.find((m) => m.device === mount!.device && m.root === '/')?.mountpoint ?? mount.mountpoint) : null;
  } catch (e) {
    note = `mountinfo: ${describeError(e)}`;
  }
  const base = { fstype: mount?.fstype ?? null, mountpoint };
  if (mount) {
    const found = superblockProbe(mount, sysPath(opts.host));
    if ('sb' in found) return { ...base, dType: found.sb.dType, method: 'superblock', device: found.device };
    note = found.note;
  }
  const device = mount?.source || null;
  // The root itself always has entries once a daemon has used it; its subdirectories are on the
  // same filesystem unless mounted over, which readdir of the root does not see.
  const dType = readdirProbe(root);
  const withNote = note ? { note } : {};
  if (dType !== null) return { ...base, dType, method: 'readdir', device, ...withNote };
  return { ...base, dType: null, method: 'none', device, note: `${note ? `${note}; ` : ''}${root} has no entries to list` };
}
