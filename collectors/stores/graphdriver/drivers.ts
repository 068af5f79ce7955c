// Where a storage driver keeps its directories. Every driver-specific path goes through one
// StorageBackend, so vfs (and later containerd's snapshotter) slot in beside overlay2.
// Also here: what the disk says about which driver is in use (see ./storage-driver.ts).
import { promises as fsp } from 'node:fs';
import { join, resolve } from 'node:path';
import { procPath } from '../../host/filesystem.js';
import type { DriverCandidate } from './verdict.js';

export interface StorageBackend {
  readonly driver: string;
  /** `<docker-root>/<driver>`: the directory whose entries are layers, build cache or leaks. */
  readonly base: string;
  /** Names of the layer directories under `base`, driver bookkeeping excluded. */
  listDirs(): Promise<string[]>;
  /** The tree that holds a layer's own files (overlay2: `<id>/diff`). */
  contentPath(id: string): string;
  /** The whole directory of a layer, what removing it would free. */
  dirPath(id: string): string;
  /**
   * Whether a layer's content holds only its own changes (overlay2 `diff/`), so path indexes of
   * the layers can be stacked for waste and copy-up. False for vfs: each layer is a full copy.
   */
  readonly layersAreDiffs: boolean;
}

/**
 * Where each driver keeps its layers, and what in there is bookkeeping (overlay2: short symlinks
 * to every layer in `l/`, a block device node for quota probing). Docker leaves `image/<driver>/`
 * of earlier drivers behind; a driver whose layer directory has entries is in use.
 */
const DRIVER_LAYER_DIRS: Record<string, { dir: string[]; bookkeeping: string[] }> = {
  overlay2: { dir: ['overlay2'], bookkeeping: ['l', 'backingFsBlockDev'] },
  'fuse-overlayfs': { dir: ['fuse-overlayfs'], bookkeeping: ['l'] },
  vfs: { dir: ['vfs', 'dir'], bookkeeping: [] },
  btrfs: { dir: ['btrfs', 'subvolumes'], bookkeeping: [] },
  zfs: { dir: ['zfs', 'graph'], bookkeeping: [] },
  devicemapper: { dir: ['devicemapper', 'mnt'], bookkeeping: [] },
  aufs: { dir: ['aufs', 'diff'], bookkeeping: [] },
  overlay: { dir: ['overlay'], bookkeeping: [] },
};

const OVERLAY2_BOOKKEEPING = new Set(DRIVER_LAYER_DIRS.overlay2!.bookkeeping);

export function overlay2Backend(dockerRoot: string): StorageBackend {
  const base = join(dockerRoot, 'overlay2');
  return {
    driver: 'overlay2',
    base,
    async listDirs() {
      const entries = await fsp.readdir(base, { withFileTypes: true });
      return entries.filter((e) => e.isDirectory() && !OVERLAY2_BOOKKEEPING.has(e.name)).map((e) => e.name);
    },
    contentPath: (id) => join(base, id, 'diff'),
    dirPath: (id) => join(base, id),
    layersAreDiffs: true,
  };
}

/**
 * vfs: `vfs/dir/<id>` is a FULL COPY of its parent plus its own changes, for image layers,
 * containers' `-init` and writable layers alike. Its content is the whole directory, and its disk
 * bytes are what it really costs. (`vfs/backingFsBlockDev` beside `dir/` is the quota probe.)
 */
export function vfsBackend(dockerRoot: string): StorageBackend {
  const base = join(dockerRoot, 'vfs', 'dir');
  return {
    driver: 'vfs',
    base,
    async listDirs() {
      let entries;
      try {
        entries = await fsp.readdir(base, { withFileTypes: true });
      } catch (e) {
        // The daemon makes `dir/` with its first layer: a fresh vfs store has none.
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw e;
      }
      return entries.filter((e) => e.isDirectory()).map((e) => e.name);
    },
    contentPath: (id) => join(base, id),
    dirPath: (id) => join(base, id),
    layersAreDiffs: false,
  };
}

export function backendFor(dockerRoot: string, driver: string): StorageBackend | null {
  switch (driver) {
    case 'overlay2':
      return overlay2Backend(dockerRoot);
    case 'vfs':
      return vfsBackend(dockerRoot);
    default:
      return null;
  }
}

// ---- Which driver the disk says is in use -----------------------------------------------------

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
      const layout = DRIVER_LAYER_DIRS[name];
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

let daemonConfigPath = '/etc/docker/daemon.json';

/** Where daemon.json is read from (tests; an agent with the host's /etc mounted elsewhere). */
export function setDaemonConfigPath(path: string): void {
  daemonConfigPath = path;
}

export interface ConfiguredDriver {
  driver: string;
  path: string;
}

/**
 * An explicit `"storage-driver"` in daemon.json, when the file is readable and is about this root:
 * its `"data-root"` names it, or it names none and this is the default root. Never required.
 */
export async function readConfiguredDriver(dockerRoot: string): Promise<ConfiguredDriver | null> {
  try {
    const config = JSON.parse(await fsp.readFile(daemonConfigPath, 'utf8')) as Record<string, unknown>;
    const driver = config['storage-driver'];
    if (typeof driver !== 'string' || driver === '') return null;
    const dataRoot = typeof config['data-root'] === 'string' ? config['data-root'] : typeof config.graph === 'string' ? config.graph : '/var/lib/docker';
    const [a, b] = await Promise.all([dataRoot, dockerRoot].map((p) => fsp.realpath(p).catch(() => resolve(p))));
    return a === b ? { driver, path: daemonConfigPath } : null;
  } catch {
    return null;
  }
}

/** Whether the kernel offers overlayfs (`overlay` in /proc/filesystems); null when unreadable. */
export async function readOverlayAvailable(): Promise<boolean | null> {
  try {
    const text = await fsp.readFile(procPath('filesystems'), 'utf8');
    return text.split('\n').some((l) => l.trim().split(/\s+/).pop() === 'overlay');
  } catch {
    return null;
  }
}
