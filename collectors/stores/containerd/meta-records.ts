// The records of one namespace of containerd's meta.db (docs/containerd-store-layout.md, "meta.db";
// the schema is containerd's core/metadata/buckets.go). Each parser reads one record's bucket and
// names what it cannot read; the record is kept with null in the fields that failed.
import type { RecordReader } from './bolt-record.js';
import { isDigest } from './digest.js';

export interface ImageRecord {
  /** The key: `docker.io/library/base:latest`, `moby-dangling@sha256:…`. */
  name: string;
  /** target/digest: the manifest or index the name points at; Docker's image id on this store. */
  digest: string | null;
  mediaType: string | null;
  /** target/size: the size of that manifest or index blob. */
  size: number | null;
  labels: Map<string, string>;
  /** The target's annotations (BuildKit writes `config.digest`). */
  annotations: Map<string, string>;
  createdAt: string | null;
}

export interface BlobRecord {
  digest: string;
  /** What containerd recorded; the file `blobs/<algorithm>/<hex>` is shared by all namespaces. */
  size: number | null;
  /** containerd's GC graph: `containerd.io/gc.ref.content.*`, `…gc.ref.snapshot.<snapshotter>`… */
  labels: Map<string, string>;
  createdAt: string | null;
}

export interface IngestRecord {
  /** The key: the client's ref for the write. */
  ref: string;
  /** The content store's ref: `ingest/<sha256 of it>/` holds the partial data. */
  backendRef: string | null;
  expireAt: string | null;
  /** The digest the write will commit to, when the client said. */
  expected: string | null;
}

export interface SnapshotRecord {
  /** The key ctr shows: a chain id, a container id, `<id>-init`, a BuildKit id. */
  key: string;
  /** `name`: `<namespace>/<seq>/<key>`, the key of the snapshotter's own record (metadata.db). */
  backendKey: string | null;
  /** The parent's key (same namespace and snapshotter); null for a bottom layer. */
  parent: string | null;
  labels: Map<string, string>;
  createdAt: string | null;
}

export interface LeaseRecord {
  id: string;
  labels: Map<string, string>;
  /** Digests of the blobs it holds. */
  content: string[];
  /** Keys of the snapshots it holds, by snapshotter. */
  snapshots: Map<string, string[]>;
  /** Refs of the ingests it holds. */
  ingests: string[];
  /** Names of the images it holds (containerd 2). */
  images: string[];
  createdAt: string | null;
}

export interface ContainerRecord {
  id: string;
  /** Empty in the file reads as null: dockerd writes "" for all three (it keeps the rootfs to itself). */
  image: string | null;
  snapshotKey: string | null;
  snapshotter: string | null;
  labels: Map<string, string>;
  createdAt: string | null;
}

const orNull = (text: string | null): string | null => (text === '' ? null : text);

export function parseImage(name: string, r: RecordReader): ImageRecord {
  const target = r.bucket('target', true);
  const image: ImageRecord = {
    name,
    digest: target?.digest('digest', true) ?? null,
    mediaType: target?.text('mediatype', true) ?? null,
    size: target?.count('size', true) ?? null,
    labels: r.labels(),
    annotations: r.labels('annotations'),
    createdAt: r.time('createdat'),
  };
  target?.done();
  r.ignore('updatedat');
  r.done();
  return image;
}

export function parseBlob(digest: string, r: RecordReader): BlobRecord {
  const blob = { digest, size: r.count('size', true), labels: r.labels(), createdAt: r.time('createdat') };
  r.ignore('updatedat');
  r.done();
  return blob;
}

export function parseIngest(ref: string, r: RecordReader): IngestRecord {
  const ingest = { ref, backendRef: r.text('ref', true), expireAt: r.time('expireat'), expected: r.digest('expected') };
  r.done();
  return ingest;
}

/** `namespace` and `key` check the backend key: it must be `<namespace>/<digits>/<key>`. */
export function parseSnapshot(namespace: string, key: string, r: RecordReader): SnapshotRecord {
  const backendKey = r.text('name', true);
  if (backendKey !== null) {
    const seq = backendKey.startsWith(`${namespace}/`) && backendKey.endsWith(`/${key}`)
      ? backendKey.slice(namespace.length + 1, backendKey.length - key.length - 1)
      : '';
    if (!/^[0-9]+$/.test(seq)) r.problem(`name ${JSON.stringify(backendKey)} is not ${namespace}/<seq>/<key>`);
  }
  const snapshot = {
    key,
    backendKey,
    parent: orNull(r.text('parent')),
    labels: r.labels(),
    createdAt: r.time('createdat'),
  };
  // children/ outlives the snapshots GC removes (see the layout doc): parent is the only link.
  r.ignore('updatedat', 'children');
  r.done();
  return snapshot;
}

export function parseLease(id: string, r: RecordReader): LeaseRecord {
  const snapshots = new Map<string, string[]>();
  const held = r.bucket('snapshots');
  for (const [snapshotter, keys] of held?.records() ?? []) {
    snapshots.set(snapshotter, keys.keys());
    keys.done();
  }
  held?.done();
  const lease = {
    id,
    labels: r.labels(),
    content: r.names('content', isDigest),
    snapshots,
    ingests: r.names('ingests'),
    images: r.names('images'),
    createdAt: r.time('createdat'),
  };
  r.done();
  return lease;
}

export function parseContainer(id: string, r: RecordReader): ContainerRecord {
  const container = {
    id,
    image: orNull(r.text('image')),
    snapshotKey: orNull(r.text('snapshotKey')),
    snapshotter: orNull(r.text('snapshotter')),
    labels: r.labels(),
    createdAt: r.time('createdat'),
  };
  // The runtime, the OCI spec and extensions are protobuf that says nothing about disk.
  r.ignore('updatedat', 'runtime', 'spec', 'extensions', 'sandboxid');
  r.done();
  return container;
}
