// The containerd image store: Docker 24+ with the containerd-snapshotter feature (the default of
// fresh Docker 29 installs) and containerd alone on Kubernetes nodes. Layers are the overlayfs
// snapshotter's snapshots, the compressed blobs stay in the content store beside them, and what
// is what is recorded in two bbolt files, read from copies, never locked.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { probeDType } from '../../host/dtype.js';
import { readDaemonConfig } from '../../host/daemon-config.js';
import type { BoltDb } from '../../lib/bbolt.js';
import type { DriverFact, Problem } from '../../lib/facts.js';
import { describeError } from '../../lib/errors.js';
import type { FoundStore, Inventory, Store, StoreContext } from '../store.js';
import { readImages, type Blobs } from './images.js';
import { containerdInventory, type ContainerdDisk } from './inventory.js';
import { parseMetaDb, type MetaDb } from './meta-db.js';
import { readBoltFile } from './read-bolt.js';
import { CONTENT, containerdRoots, META_DB, SNAPSHOTTER } from './roots.js';
import { parseSnapshotsDb, type SnapshotsDb } from './snapshots-db.js';

const SNAPSHOTTER_TYPE = 'io.containerd.snapshotter.v1';

/** Names in a directory; a missing one is empty (a store that never pulled has no ingest/). */
async function names(dir: string, problems: Problem[]): Promise<string[]> {
  try {
    return (await fsp.readdir(dir)).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') problems.push({ path: dir, message: describeError(e) });
    return [];
  }
}

/** Whether dockerd is configured for the containerd store (daemon.json), when it says. */
async function configuredSnapshotter(ctx: StoreContext): Promise<boolean | null> {
  const features = (await readDaemonConfig(ctx.host))?.config.features as Record<string, unknown> | undefined;
  const on = features?.['containerd-snapshotter'];
  return typeof on === 'boolean' ? on : null;
}

/**
 * Whether Docker uses this store now, as the disk tells: daemon.json, else whether Docker's
 * namespace holds anything (or, without Docker, any namespace). The scan asks the API when two
 * stores both claim to be in use.
 */
function inUse(configured: boolean | null, meta: MetaDb | null): boolean {
  if (configured !== null) return configured;
  const moby = meta?.namespaces.get('moby');
  if (moby) return moby.images.size > 0 || (moby.snapshots.get('overlayfs')?.size ?? 0) > 0;
  return (meta?.namespaces.size ?? 0) > 0;
}

/** Whether a root holds nothing of an image store: no image, blob or snapshot. */
async function holdsNoImages(root: string, meta: MetaDb | null, snaps: SnapshotsDb | null): Promise<boolean> {
  if (!meta || !snaps || snaps.snapshots.size > 0) return false;
  if (![...meta.namespaces.values()].every((ns) => ns.images.size === 0 && ns.blobs.size === 0)) return false;
  return (await fsp.readdir(join(root, CONTENT, 'blobs', 'sha256')).catch(() => [])).length === 0;
}

export const containerdStore: Store = {
  name: 'containerd',
  async detect(ctx) {
    const { collect } = ctx;
    const read = <T>(file: string, parse: (db: BoltDb, p: Problem[]) => T, none: T) =>
      collect('containerd-metadata', async (p): Promise<T | null> => {
        // The snapshotter makes its metadata.db with its first snapshot.
        if (!(await fsp.stat(file).then(() => true, () => false))) return none;
        const db = await readBoltFile(file, p);
        return db ? parse(db, p) : null;
      }, null);
    const configured = await configuredSnapshotter(ctx);
    for (const root of await containerdRoots(ctx)) {
      const [meta, snaps] = await Promise.all([
        read(join(root, META_DB), (db, p) => parseMetaDb(db, p, join(root, META_DB)), null),
        read(join(root, SNAPSHOTTER, 'metadata.db'), (db, p) => parseSnapshotsDb(db, p, join(root, SNAPSHOTTER, 'metadata.db')), { snapshots: new Map() }),
      ]);
      // dockerd on the classic store runs a containerd of its own for its tasks: a root with no
      // image, snapshot or blob is no image store, and the next candidate may be.
      if (await holdsNoImages(root, meta, snaps)) continue;
      const changedMs = await fsp.stat(join(root, META_DB)).then((s) => s.mtimeMs, () => null);
      return found(root, meta, snaps, inUse(configured, meta), changedMs, ctx);
    }
    return null;
  },
};

/** The namespaces that hold images or snapshots, as the store's `namespace` (Docker's: moby). */
function imageNamespaces(meta: MetaDb | null): string | undefined {
  const held = [...(meta?.namespaces.values() ?? [])].filter((ns) => ns.images.size > 0 || (ns.snapshots.get('overlayfs')?.size ?? 0) > 0);
  return held.length ? held.map((ns) => ns.name).sort().join(',') : undefined;
}

function found(root: string, meta: MetaDb | null, snaps: SnapshotsDb | null, active: boolean, changedMs: number | null, ctx: StoreContext): FoundStore {
  const namespace = ctx.containerd.namespace;
  const shown = namespace ?? imageNamespaces(meta);
  return {
    store: 'containerd',
    driver: 'overlayfs',
    root,
    active,
    changedMs,
    ...(shown ? { namespace: shown } : {}),
    async inventory(ctx): Promise<Inventory> {
      const empty: Inventory = { images: [], layers: [], mounts: [], dirs: [], roots: [root] };
      // Without meta.db nothing can be told apart; without metadata.db the images and blobs
      // still can, but no snapshot directory: those are left to the rest of the root, and the
      // unreadable file is named.
      if (!meta) return empty;
      return ctx.collect('containerd-metadata', async (p) => {
        const content = join(root, CONTENT);
        const disk: ContainerdDisk = {
          snapshotDirs: await names(join(root, SNAPSHOTTER, 'snapshots'), p),
          blobFiles: (await names(join(content, 'blobs', 'sha256'), p)).filter((n) => /^[0-9a-f]{64}$/.test(n)).map((n) => `sha256:${n}`),
          ingestDirs: await names(join(content, 'ingest'), p),
        };
        const present = new Set(disk.blobFiles);
        const blobs: Blobs = {
          present: (d) => present.has(d),
          text: async (d) => {
            const file = join(content, 'blobs', ...d.split(':'));
            try {
              return await fsp.readFile(file, 'utf8');
            } catch (e) {
              p.push({ path: file, message: describeError(e) });
              return null;
            }
          },
        };
        const namespaces = [...meta.namespaces.values()].filter((ns) => !namespace || ns.name === namespace);
        const images = (await Promise.all(namespaces.map((ns) => readImages(ns, blobs, p, join(root, META_DB))))).flat();
        return containerdInventory({ root, meta, snaps, namespaces, everyNamespace: !namespace, images, disk });
      }, empty);
    },
    verdict(api): DriverFact {
      const probe = probeDType(root, { host: ctx.host });
      const status = new Map(api?.driverStatus ?? []);
      const sentences: string[] = [];
      if (probe.dType === false) sentences.push(`${probe.fstype ?? 'The filesystem'} under ${root} lacks d_type: the overlayfs snapshotter may misbehave on it.`);
      if (api && status.get('driver-type') !== SNAPSHOTTER_TYPE) sentences.push(`The Docker API reports ${api.driver ?? 'another driver'}: this containerd store is not the one Docker uses now.`);
      return { name: 'overlayfs', store: 'containerd', backingFs: probe.fstype, dType: probe.dType, vfsFallback: false, reason: sentences.join(' ') };
    },
  };
}
