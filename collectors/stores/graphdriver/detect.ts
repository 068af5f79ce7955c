// What the disk says about which storage driver the classic store uses: every `image/<driver>/`
// with how fresh its metadata is and how full its layer directory is, an explicit driver in
// daemon.json, and whether the kernel offers overlayfs. The choice itself is in ./verdict.ts.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { configIsAboutRoot, readDaemonConfig } from '../../host/daemon-config.js';
import { procPath, type HostPaths } from '../../host/paths.js';
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
  const daemon = await readDaemonConfig(host);
  const driver = daemon?.config['storage-driver'];
  if (!daemon || typeof driver !== 'string' || driver === '') return null;
  return (await configIsAboutRoot(daemon, dockerRoot, host)) ? { driver, path: daemon.path } : null;
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
