// containerd's metadata (`io.containerd.metadata.v1.bolt/meta.db`): per namespace, the images,
// blobs, ingests, snapshots, leases and containers it records. Pure: it reads a parsed bbolt file
// (read-bolt.ts does the I/O). What cannot be read is a problem naming its bucket, and the rest is
// kept; nothing is guessed. Layout: docs/containerd-store-layout.md.
import type { BoltDb } from '../../lib/bbolt.js';
import type { Problem } from '../../lib/facts.js';
import { RecordReader } from './bolt-record.js';
import { parseTree } from './bolt-tree.js';
import { isDigest } from './digest.js';
import {
  parseBlob,
  parseContainer,
  parseImage,
  parseIngest,
  parseLease,
  parseSnapshot,
  type BlobRecord,
  type ContainerRecord,
  type ImageRecord,
  type IngestRecord,
  type LeaseRecord,
  type SnapshotRecord,
} from './meta-records.js';

export type { BlobRecord, ContainerRecord, ImageRecord, IngestRecord, LeaseRecord, SnapshotRecord };

export interface MetaDb {
  /** `v1/version`: the schema revision (3 for containerd 1.7, 4 for 2.x); null when unreadable. */
  schemaVersion: number | null;
  /** By name: `moby` (Docker), `moby_history` (BuildKit's build history), `k8s.io` (the CRI)… */
  namespaces: Map<string, NamespaceMeta>;
}

export interface NamespaceMeta {
  name: string;
  labels: Map<string, string>;
  /** By name. */
  images: Map<string, ImageRecord>;
  /** By digest: the blobs this namespace records. */
  blobs: Map<string, BlobRecord>;
  /** By the client's ref. */
  ingests: Map<string, IngestRecord>;
  /** By snapshotter (`overlayfs`), then by key. */
  snapshots: Map<string, Map<string, SnapshotRecord>>;
  /** By id. */
  leases: Map<string, LeaseRecord>;
  /** By id; dockerd keeps a record only while the container runs. */
  containers: Map<string, ContainerRecord>;
}

/** Calls `each` for every record of the collection bucket `key` of `r`, if there is one. */
function collection(r: RecordReader, key: string, each: (name: string, record: RecordReader) => void): void {
  const bucket = r.bucket(key);
  if (bucket === null) return;
  for (const [name, record] of bucket.records()) each(name, record);
  bucket.done();
}

/** containerd refuses to create a snapshot on a missing parent, so one is corruption or a tear. */
function checkParents(snapshots: Map<string, SnapshotRecord>, readers: Map<string, RecordReader>): void {
  for (const s of snapshots.values()) {
    if (s.parent === null || snapshots.has(s.parent)) continue;
    readers.get(s.key)?.problem(`parent ${JSON.stringify(s.parent)} is not recorded`);
  }
}

function parseNamespace(name: string, r: RecordReader): NamespaceMeta {
  const ns: NamespaceMeta = {
    name,
    labels: r.labels(),
    images: new Map(),
    blobs: new Map(),
    ingests: new Map(),
    snapshots: new Map(),
    leases: new Map(),
    containers: new Map(),
  };
  collection(r, 'images', (n, rec) => ns.images.set(n, parseImage(n, rec)));
  const content = r.bucket('content');
  if (content !== null) {
    collection(content, 'blob', (digest, rec) => {
      if (isDigest(digest)) ns.blobs.set(digest, parseBlob(digest, rec));
      else rec.problem('skipped: the key is not a digest');
    });
    collection(content, 'ingests', (ref, rec) => ns.ingests.set(ref, parseIngest(ref, rec)));
    content.done();
  }
  collection(r, 'snapshots', (snapshotter, rec) => {
    const byKey = new Map<string, SnapshotRecord>();
    const readers = new Map(rec.records());
    for (const [key, s] of readers) byKey.set(key, parseSnapshot(name, key, s));
    rec.done();
    checkParents(byKey, readers);
    ns.snapshots.set(snapshotter, byKey);
  });
  collection(r, 'leases', (id, rec) => ns.leases.set(id, parseLease(id, rec)));
  collection(r, 'containers', (id, rec) => ns.containers.set(id, parseContainer(id, rec)));
  // Sandboxes (the CRI's pods) hold no disk of their own.
  r.ignore('sandboxes');
  r.done();
  return ns;
}

/** Everything meta.db records; `source` names the file in problems. */
export function parseMetaDb(db: BoltDb, problems: Problem[], source = 'meta.db'): MetaDb {
  const ctx = { source, problems };
  const root = new RecordReader(ctx, [], parseTree(db, ctx));
  const out: MetaDb = { schemaVersion: null, namespaces: new Map() };
  for (const [name, top] of root.records()) {
    if (name === 'v1') {
      out.schemaVersion = top.count('version', true);
      for (const [ns, rec] of top.records()) out.namespaces.set(ns, parseNamespace(ns, rec));
      top.done();
    } else if (top.node.buckets.has('sandboxes')) {
      // containerd 1.7 kept sandboxes at <namespace>/sandboxes, outside v1 (2.0 moves them in).
      top.ignore('sandboxes');
      top.done();
    } else {
      top.problem('unknown top-level bucket');
    }
  }
  if (!root.node.buckets.has('v1') && !root.node.broken) root.problem('no v1 bucket: not a containerd meta.db');
  root.done();
  return out;
}
