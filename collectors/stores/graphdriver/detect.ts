// What the disk says about which storage driver the classic store uses: every `image/<driver>/`
// with how fresh its metadata is and how full its layer directory is, an explicit driver in
// daemon.json, and whether the kernel offers overlayfs. The choice itself is in ./verdict.ts.
import { promises as fsp } from 'node:fs';
import { join, resolve } from 'node:path';
import { procPath, rootfsPath, type HostPaths } from '../../host/paths.js';
import { driverLayout } from './drivers.js';
import type { DriverCandidate } from './verdict.js';

async function mtimeMs(path: string): Promise<number | null> {
  try {
    return (await fsp.stat(path)).mtimeMs;
  } catch {
    return null;
  }
}

/** Every `image/<driver>/` under the root, with how recent its metadata is and how full its layer dir is. */
export async function readDriverCandidates(dockerRoot: string): Promise<DriverCandidate[]> {
  const names = (await fsp.readdir(join(dockerRoot, 'image'), { withFileTypes: true }))
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
  return Promise.all(
    names.map(async (name): Promise<DriverCandidate> => {
      const img = join(dockerRoot, 'image', name);
      const times = await Promise.all(
        ['repositories.json', 'layerdb', join('layerdb', 'sha256'), join('layerdb', 'mounts')].map((p) => mtimeMs(join(img, p))),
      );
      const known = times.filter((t): t is number => t !== null);
      const layout = driverLayout(name);
      let layerDirEntries: number | null = null;
      if (layout) {
        try {
          const entries = await fsp.readdir(join(dockerRoot, ...layout.dir));
          layerDirEntries = entries.filter((e) => !layout.bookkeeping.includes(e)).length;
        } catch {
          layerDirEntries = null;
        }
      }
      return { name, metadataMtimeMs: known.length > 0 ? Math.max(...known) : null, layerDirEntries };
    }),
  );
}

export interface ConfiguredDriver {
  driver: string;
  path: string;
}

/**
 * An explicit `"storage-driver"` in daemon.json, when the file is readable and is about this root:
 * its `"data-root"` names it, or it names none and this is the default root. Never required.
 */
export async function readConfiguredDriver(dockerRoot: string, host: HostPaths): Promise<ConfiguredDriver | null> {
  const daemonConfigPath = rootfsPath(host, 'etc', 'docker', 'daemon.json');
  try {
    const config = JSON.parse(await fsp.readFile(daemonConfigPath, 'utf8')) as Record<string, unknown>;
    const driver = config['storage-driver'];
    if (typeof driver !== 'string' || driver === '') return null;
    const dataRoot = typeof config['data-root'] === 'string' ? config['data-root'] : typeof config.graph === 'string' ? config.graph : '/var/lib/docker';
    // daemon.json names host paths; the docker root is as this process sees it.
    const [a, b] = await Promise.all([rootfsPath(host, dataRoot), dockerRoot].map((p) => fsp.realpath(p).catch(() => resolve(p))));
    return a === b ? { driver, path: daemonConfigPath } : null;
  } catch {
    return null;
  }
}

/** Whether the kernel offers overlayfs (`overlay` in /proc/filesystems); null when unreadable. */
export async function readOverlayAvailable(host: HostPaths): Promise<boolean | null> {
  try {
    const text = await fsp.readFile(procPath(host, 'filesystems'), 'utf8');
    return text.split('\n').some((l) => l.trim().split(/\s+/).pop() === 'overlay');
  } catch {
    return null;
  }
}
