// The host's facts, learnt once per process: the OS (os-release under --path.rootfs, the running
// kernel) and the block device beneath the docker root (the mount's device from mountinfo, then
// /sys/dev/block/<maj:min>, its queue/rotational, model and vendor, and for dm and md the disks
// beneath: every path through HostPaths, so --path.sysfs works in a container). That costs a
// dozen small reads, about a millisecond: a one-off report learns it so.
//
// The agent also asks systeminformation, once at start (learnHostFacts with `systeminformation`),
// for what the kernel's files do not say: a model, and a type where sysfs could not tell. It
// spawns lsblk and smartctl and costs 60–150 ms here, which a one-off report does not pay; and it
// reads this process's own /, /proc and /sys, so it is asked only when --path.rootfs is `/`.
// Never on the scrape path, never per scan.
import { accessSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { release, type } from 'node:os';
import { basename, dirname, relative, resolve } from 'node:path';
import { classifyDevice, modelOf, osOfRelease, rotationalOf, withSystemInformation, type DeviceFacts, type HostFacts, type SiBlock, type SiDisk, type SysBlock } from '../lib/host-facts.js';
import { mountFor, parseMountinfo } from './filesystem.js';
import { procPath, rootfsPath, sysPath, type HostPaths } from './paths.js';

export type { DeviceFacts, DeviceType, HostFacts } from '../lib/host-facts.js';

const UNKNOWN_DEVICE: DeviceFacts = { name: null, type: 'unknown', rotational: null, model: null };

// Synchronous reads: a dozen files of sysfs and procfs (memory, never a disk), each a few
// microseconds, where a trip through libuv's thread pool each costs more than the read (and
// milliseconds on a busy host).
function readTrimmed(path: string): string | null {
  try {
    const s = readFileSync(path, 'utf8').trim();
    return s === '' ? null : s;
  } catch {
    return null;
  }
}

function exists(path: string): boolean {
  try {
    accessSync(path);
    return true;
  } catch {
    return false;
  }
}

/** The sysfs root as realpath resolves the links under it. */
function sysRoot(host: HostPaths): string {
  try {
    return realpathSync(host.sys);
  } catch {
    return resolve(host.sys);
  }
}

/**
 * The whole disk of a block device's sysfs directory: a partition's (it has a `partition` file)
 * is its parent's. Returns the disk's kernel name and its directory, or null.
 */
function diskDir(host: HostPaths, link: string): { name: string; dir: string } | null {
  let dir: string;
  try {
    dir = realpathSync(link);
  } catch {
    return null;
  }
  if (exists(`${dir}/partition`)) dir = dirname(dir);
  // Resolved outside the given sysfs: not a device of that host's.
  if (relative(sysRoot(host), dir).startsWith('..')) return null;
  return { name: basename(dir), dir };
}

/** A disk's sysfs facts and the disks beneath it (dm, md), `depth` levels down at most. */
function readSysBlock(host: HostPaths, disk: { name: string; dir: string }, depth = 4): SysBlock {
  const rot = readTrimmed(`${disk.dir}/queue/rotational`);
  let slaveNames: string[] = [];
  try {
    if (depth > 0) slaveNames = readdirSync(`${disk.dir}/slaves`);
  } catch {
    // a plain disk has no slaves/
  }
  const slaves: SysBlock[] = [];
  for (const s of slaveNames) {
    const d = diskDir(host, sysPath(host, 'class', 'block', s));
    if (d && d.name !== disk.name) slaves.push(readSysBlock(host, d, depth - 1));
  }
  return {
    name: disk.name,
    devicePath: relative(sysRoot(host), disk.dir),
    rotational: rot === '1' ? true : rot === '0' ? false : null,
    model: readTrimmed(`${disk.dir}/device/model`),
    vendor: readTrimmed(`${disk.dir}/device/vendor`),
    slaves,
  };
}

/** `path` itself, or its nearest ancestor that exists (a docker root not made yet). */
function existingPath(path: string): string {
  let p = resolve(path);
  for (;;) {
    try {
      return realpathSync(p);
    } catch {
      if (p === dirname(p)) return p;
      p = dirname(p);
    }
  }
}

/** The block device beneath `path`, from the host's mountinfo and sysfs; unknown where they do not tell. */
export function readDevice(host: HostPaths, path: string): { device: DeviceFacts; kernelName: string | null } {
  const mountinfo = readTrimmed(procPath(host, 'self', 'mountinfo'));
  if (mountinfo === null) return { device: UNKNOWN_DEVICE, kernelName: null };
  const mount = mountFor(parseMountinfo(mountinfo), existingPath(path));
  if (!mount) return { device: UNKNOWN_DEVICE, kernelName: null };
  // Major 0 is an anonymous device (btrfs, overlay, tmpfs, NFS): the source may still name a disk.
  let disk = mount.device && !mount.device.startsWith('0:') ? diskDir(host, sysPath(host, 'dev', 'block', mount.device)) : null;
  if (!disk && mount.source.startsWith('/dev/')) {
    let real = mount.source;
    try {
      real = realpathSync(rootfsPath(host, mount.source));
    } catch {
      // not under this rootfs: its name alone
    }
    disk = diskDir(host, sysPath(host, 'class', 'block', basename(real)));
  }
  const name = mount.source.startsWith('/dev/') ? mount.source : disk ? `/dev/${disk.name}` : null;
  if (!disk) return { device: { ...UNKNOWN_DEVICE, name }, kernelName: null };
  const b = readSysBlock(host, disk);
  return { device: { name, type: classifyDevice(b), rotational: rotationalOf(b), model: modelOf(b) }, kernelName: b.name };
}

/** The host's distribution from os-release under --path.rootfs; the kernel is this one's (a container shares it). */
export function readOs(host: HostPaths): { os: string; kernel: string } {
  for (const file of [rootfsPath(host, 'etc', 'os-release'), rootfsPath(host, 'usr', 'lib', 'os-release')]) {
    const text = readTrimmed(file);
    const os = text && osOfRelease(text);
    if (os) return { os, kernel: release() };
  }
  return { os: type(), kernel: release() };
}

/** systeminformation's view, bounded in time (smartctl can hang on a sick disk); null when it fails. */
async function askSystemInformation(timeoutMs: number): Promise<{ os: { distro: string; release: string; kernel: string }; disks: SiDisk[]; blocks: SiBlock[] } | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((done) => {
    timer = setTimeout(() => done(null), timeoutMs);
    timer.unref();
  });
  const ask = (async () => {
    const si = (await import('systeminformation')).default;
    const [os, disks, blocks] = await Promise.all([si.osInfo(), si.diskLayout(), si.blockDevices()]);
    return { os, disks, blocks };
  })().catch(() => null);
  try {
    return await Promise.race([ask, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface LearnOptions {
  /** Ask systeminformation too (the agent, at start); ignored unless --path.rootfs is `/`. */
  systeminformation?: boolean;
  timeoutMs?: number;
}

const memo = new Map<string, Promise<HostFacts>>();

async function learn(host: HostPaths, path: string, opts: LearnOptions): Promise<HostFacts> {
  const os = readOs(host);
  const { device, kernelName } = readDevice(host, path);
  if (!opts.systeminformation || resolve(host.rootfs) !== '/') return { ...os, device };
  const si = await askSystemInformation(opts.timeoutMs ?? 10_000);
  if (!si) return { ...os, device };
  const siOs = si.os.distro && si.os.distro !== 'unknown' ? `${si.os.distro}${si.os.release && si.os.release !== 'unknown' ? ` ${si.os.release}` : ''}` : os.os;
  return { os: siOs, kernel: si.os.kernel || os.kernel, device: withSystemInformation(device, kernelName, si.disks, si.blocks) };
}

/**
 * The host's facts for the device under `path` (the docker root), learnt once per process and
 * these arguments: a host's OS and disks do not change under a running agent. Never fails: what
 * could not be read is `unknown`.
 */
export function learnHostFacts(host: HostPaths, path: string, opts: LearnOptions = {}): Promise<HostFacts> {
  const key = JSON.stringify([host.rootfs, host.proc, host.sys, path, !!opts.systeminformation]);
  let p = memo.get(key);
  if (!p) {
    p = learn(host, path, opts).catch(() => ({ os: type(), kernel: release(), device: UNKNOWN_DEVICE }));
    memo.set(key, p);
  }
  return p;
}
