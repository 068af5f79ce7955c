// Where a storage driver keeps its directories. Every driver-specific path goes through one
// StorageBackend, so vfs (and later containerd's snapshotter) slot in beside overlay2.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';

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
}

// overlay2 keeps short symlinks to every layer in `l/` and a block device node for quota
// probing; neither is a layer.
const OVERLAY2_BOOKKEEPING = new Set(['l', 'backingFsBlockDev']);

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
  };
}

export function backendFor(dockerRoot: string, driver: string): StorageBackend | null {
  switch (driver) {
    case 'overlay2':
      return overlay2Backend(dockerRoot);
    default:
      return null;
  }
}
