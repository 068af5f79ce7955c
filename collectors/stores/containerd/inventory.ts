// Which directory and file of the containerd root is what: snapshots are image layers (on an
// image's chain), containers' writable and -init layers, BuildKit's cache (held by its leases) or
// orphans (a directory the snapshotter has no record of); blobs are image content, BuildKit's, or
// orphans (a file no namespace records); every partial download is an orphan. Pure.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { BlobFact, DriverDirRole, LayerFact, MountFact, RecordPath } from '../../lib/facts.js';
import type { OpaqueRecord } from '../../walk/opaque-records.js';
import { walkFlags } from '../../walk/semantics.js';
import type { Inventory, StoreDir } from '../store.js';
import { buildHolds, imageChain } from './build-holds.js';
import { recordedContainers } from './containers.js';
import type { ContainerdImage } from './images.js';
import { nsKey } from './keys.js';
import type { MetaDb, NamespaceMeta, SnapshotRecord } from './meta-db.js';
import { CONTENT, SNAPSHOTTER } from './roots.js';
import type { SnapshotInfo, SnapshotsDb } from './snapshots-db.js';

export interface ContainerdDisk {
  /** Entries of `snapshots/`. */
  snapshotDirs: string[];
  /** Digests of the files of `blobs/sha256/`. */
  blobFiles: string[];
  /** Entries of `ingest/`. */
  ingestDirs: string[];
}

export interface ContainerdFacts {
  root: string;
  meta: MetaDb;
  /** null when metadata.db could not be read: then no snapshot directory is told apart. */
  snaps: SnapshotsDb | null;
  /** The namespaces measured; the others' bytes are left to the rest of the root. */
  namespaces: NamespaceMeta[];
  /** Whether every namespace is measured: only then is an unrecorded file an orphan. */
  everyNamespace: boolean;
  images: ContainerdImage[];
  disk: ContainerdDisk;
}

const CONTAINER = /^[0-9a-f]{64}$/;

/** The layer blob as a record of the snapshot's opaque directories: a tar, plain or gzipped (zstd is not read). */
function tarRecord(root: string, blob: { digest: string; mediaType: string | null } | undefined): OpaqueRecord | null {
  if (!blob) return null;
  const type = blob.mediaType ?? '';
  const compression = /gzip$/.test(type) ? 'gzip' : /\.tar$/.test(type) ? 'none' : null;
  return compression ? { format: 'tar', file: join(root, CONTENT, 'blobs', ...blob.digest.split(':')), compression } : null;
}

export function containerdInventory(f: ContainerdFacts): Inventory {
  const snapDir = (id: string) => join(f.root, SNAPSHOTTER, 'snapshots', id);
  const measured = new Map<string, { ns: NamespaceMeta; rec: SnapshotRecord }>(); // by backend key
  for (const ns of f.namespaces) for (const rec of ns.snapshots.get('overlayfs')?.values() ?? []) if (rec.backendKey) measured.set(rec.backendKey, { ns, rec });
  const recordedAnywhere = new Set<string>();
  for (const ns of f.meta.namespaces.values()) for (const rec of ns.snapshots.get('overlayfs')?.values() ?? []) if (rec.backendKey) recordedAnywhere.add(rec.backendKey);

  const onChain = new Set(f.images.flatMap((i) => i.layerKeys.map((k) => nsKey(i.namespace, k))));
  // Containers containerd records itself (the CRI's): their writable snapshots, by model key.
  const recorded = recordedContainers(f.namespaces, f.images);
  const containerOf = new Map(recorded.flatMap((c) => (c.snapshot ? [[c.snapshot, c.fact.id] as const] : [])));
  const leased = new Set<string>();
  const leasedBlobs = new Set<string>();
  for (const ns of f.namespaces) {
    for (const lease of ns.leases.values()) {
      // dockerd holds each container's snapshots with a lease named by the container id.
      if (CONTAINER.test(lease.id)) continue;
      for (const k of lease.snapshots.get('overlayfs') ?? []) leased.add(nsKey(ns.name, k));
      for (const d of lease.content) leasedBlobs.add(d);
    }
  }

  const dirs: StoreDir[] = [];
  // What removing each layer or container frees besides the snapshot's fs/: the rest of its directory.
  const records: RecordPath[] = [];
  const layers: LayerFact[] = [];
  const mounts: MountFact[] = [];
  const layerBlob = new Map(f.images.flatMap((i) => [...i.blobOfChain].map(([c, b]) => [nsKey(i.namespace, c), b] as const)));
  const diffOf = new Map(f.images.flatMap((i) => [...i.diffOfChain].map(([c, d]) => [nsKey(i.namespace, c), d] as const)));
  const idOf = new Map<string, string>(); // model key → snapshot id
  const info = new Map<string, SnapshotInfo>(); // model key → the snapshotter's record
  const snapshots = f.snaps?.snapshots ?? new Map<string, SnapshotInfo>();
  for (const s of snapshots.values()) {
    const m = measured.get(s.backendKey);
    if (m && s.id) {
      const key = nsKey(m.ns.name, m.rec.key);
      idOf.set(key, s.id);
      info.set(key, s);
    }
  }
  const roleOf = (key: string, rec: SnapshotRecord): DriverDirRole => {
    if (onChain.has(key)) return 'image-layer';
    if (containerOf.has(key)) return 'container-layer';
    if (CONTAINER.test(rec.key) && rec.parent === `${rec.key}-init`) return 'container-layer';
    if (rec.key.endsWith('-init') && CONTAINER.test(rec.key.slice(0, -5))) return 'container-init';
    if (leased.has(key)) return 'build-cache';
    // Recorded, on no image's chain and held by nothing Docker names: BuildKit's own snapshots
    // (its record ids) and its views (of those or of image layers) outlive their temporary
    // leases; anything else is a layer no listed image holds.
    return /^[0-9a-z]{25}$|-view$/.test(rec.key) ? 'build-cache' : 'image-layer';
  };

  const known = new Set<string>();
  for (const s of snapshots.values()) {
    if (!s.id) continue;
    const m = measured.get(s.backendKey);
    if (!m) {
      // Another namespace's, when one is asked for: not ours to call anything.
      if (!f.everyNamespace && recordedAnywhere.has(s.backendKey)) known.add(s.id);
      continue;
    }
    known.add(s.id);
    const key = nsKey(m.ns.name, m.rec.key);
    const role = roleOf(key, m.rec);
    const whole = role === 'build-cache';
    const parentKey = m.rec.parent ? nsKey(m.ns.name, m.rec.parent) : null;
    // An -init snapshot on a classic build's chain holds only what Docker writes (/etc/hosts…):
    // nothing of it is opaque, and it has no layer blob to say so.
    const flags = walkFlags('overlay', role, parentKey !== null && !m.rec.key.endsWith('-init'));
    const opaqueRecord = flags.opaque ? tarRecord(f.root, layerBlob.get(key)) : null;
    dirs.push({
      id: s.id,
      role,
      path: whole ? snapDir(s.id) : join(snapDir(s.id), 'fs'),
      // The snapshotter counts a committed snapshot's entries: the walk's cost.
      weight: role === 'image-layer' ? (s.inodes ?? Infinity) : role === 'build-cache' ? Infinity : 0,
      cacheKey: role === 'image-layer' && s.kind === 'Committed' ? `${key}@${s.id}` : null,
      ...(role === 'image-layer' && s.kind === 'Committed' ? { record: `size=${s.size ?? ''} inodes=${s.inodes ?? ''}` } : {}),
      // The snapshotter counts a committed snapshot's entries (fs/ itself included).
      ...(!whole && s.kind === 'Committed' && s.inodes !== null ? { entries: s.inodes } : {}),
      ...flags,
      ...(opaqueRecord ? { opaqueRecord } : {}),
    });
    if (!whole) {
      const owner = role === 'image-layer' ? `layer:${key}` : role === 'container-layer' && containerOf.has(key) ? `container:${containerOf.get(key)!}` : null;
      const dockerOwner = role === 'container-layer' ? m.rec.key : role === 'container-init' ? m.rec.key.slice(0, -'-init'.length) : null;
      const at = owner ?? (dockerOwner !== null ? `container:${dockerOwner}` : null);
      if (at) records.push({ key: at, path: snapDir(s.id), skip: join(snapDir(s.id), 'fs') });
    }
    if (role === 'image-layer') {
      layers.push({ chainId: key, diffId: diffOf.get(key) ?? '', parent: parentKey, cacheId: s.id, size: s.size, snapshotId: s.id, namespace: m.ns.name });
    } else if (role === 'container-layer' && containerOf.has(key)) {
      // The CRI's containers have no -init layer: the writable snapshot sits on the image's top.
      mounts.push({ containerId: containerOf.get(key)!, mountId: s.id, initId: null, parent: parentKey });
    } else if (role === 'container-layer') {
      const init = idOf.get(`${key}-init`) ?? null;
      const top = parentKey ? info.get(parentKey)?.parent : null;
      const image = top ? measured.get(top) : undefined;
      // The image's top layer by the model's key (as layers[].chainId), its namespace included.
      mounts.push({ containerId: m.rec.key, mountId: s.id, initId: init, parent: image ? nsKey(image.ns.name, image.rec.key) : null });
    }
  }
  // Directories the snapshotter has no record of: leaked by a crash (or mid-removal, `rm-<id>`).
  for (const name of f.snaps ? f.disk.snapshotDirs : []) {
    if (known.has(name)) continue;
    dirs.push({ id: `snapshot:${name}`, role: 'orphan', kind: 'snapshot', path: snapDir(name), weight: Infinity, cacheKey: null, index: false, opaque: false });
  }

  const blobs: BlobFact[] = [];
  const imageBlobs = new Set(f.images.flatMap((i) => i.blobs));
  const mediaType = new Map(f.images.flatMap((i) => [...i.mediaTypes]));
  const recordedBlob = (d: string, spaces: Iterable<NamespaceMeta>) => [...spaces].some((ns) => ns.blobs.has(d));
  for (const digest of f.disk.blobFiles) {
    const path = join(f.root, CONTENT, 'blobs', ...digest.split(':'));
    const ours = recordedBlob(digest, f.namespaces);
    let role: DriverDirRole | null;
    if (imageBlobs.has(digest)) role = 'image-content';
    else if (ours) role = leasedBlobs.has(digest) && !imageBlobs.has(digest) ? 'build-cache' : 'image-content';
    else role = f.everyNamespace ? 'orphan' : recordedBlob(digest, f.meta.namespaces.values()) ? null : 'orphan';
    if (role === null) continue;
    dirs.push({ id: digest, role, path, weight: 0, cacheKey: null, index: false, opaque: false, file: true, ...(role === 'orphan' ? { kind: 'blob' as const } : {}) });
    if (role === 'image-content') blobs.push({ digest, mediaType: mediaType.get(digest) ?? null });
  }
  // Every partial download: containerd resumes one only while a pull of it runs. One another
  // namespace records, when one is asked for, is not ours to call anything: the content store
  // names its directory by the sha256 of the record's ref.
  const othersIngests = new Set(
    f.everyNamespace
      ? []
      : [...f.meta.namespaces.values()]
          .filter((ns) => !f.namespaces.includes(ns))
          .flatMap((ns) => [...ns.ingests.values()].flatMap((i) => (i.backendRef ? [createHash('sha256').update(i.backendRef).digest('hex')] : []))),
  );
  for (const name of f.disk.ingestDirs) {
    if (othersIngests.has(name)) continue;
    dirs.push({ id: `ingest:${name}`, role: 'orphan', kind: 'ingest', path: join(f.root, CONTENT, 'ingest', name), weight: Infinity, cacheKey: null, index: false, opaque: false });
  }
  // Outside Docker's namespace an image's id and its layers' keys carry their namespace: the same
  // image imported into two namespaces is two images (two unpackings) holding the same blobs.
  const images = f.images.map((i) => ({ ...i, id: nsKey(i.namespace, i.id), layerKeys: i.layerKeys.map((k) => nsKey(i.namespace, k)), layerBlobs: imageChain(i) }));
  const roleOfDir = new Map(dirs.map((d) => [d.id, d.role]));
  const unitOf = (id: string | undefined, image: string): string | null => {
    const role = id === undefined ? undefined : roleOfDir.get(id);
    return role === 'image-layer' || role === 'image-content' ? image : role === 'build-cache' ? `cache:${id}` : null;
  };
  const holds = buildHolds({
    namespaces: f.namespaces,
    images: f.images,
    snapshotUnit: (key) => unitOf(idOf.get(key), `layer:${key}`),
    blobUnit: (digest) => unitOf(digest, `blob:${digest}`),
  });
  return { images, layers, mounts, dirs, blobs, containers: recorded.map((c) => c.fact), records, holds, roots: [f.root] };
}
