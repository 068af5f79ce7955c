// The overlayfs snapshotter's own records (`io.containerd.snapshotter.v1.overlayfs/metadata.db`):
// which directory `snapshots/<id>/` holds each snapshot, its kind and parent, and for committed
// ones the usage containerd measured at commit. Pure; layout in docs/containerd-store-layout.md
// (containerd's core/snapshots/storage/bolt.go writes it).
//
// v1/parents is an index of the parent links (`<uvarint parent id> 0x00 <uvarint child id>` →
// the child's key). It says nothing new, so it is only checked against the snapshots both ways:
// a copy torn between two commits can be consistent page by page and still disagree there.
import type { BoltDb } from '../../lib/bbolt.js';
import type { Problem } from '../../lib/facts.js';
import { RecordReader, shownKey } from './bolt-record.js';
import { parseTree } from './bolt-tree.js';
import { decodeUvarint } from './varint.js';

/** containerd's snapshots.Kind: 1 View, 2 Active, 3 Committed, 4 Snapshot (containerd 2.2+). */
export type SnapshotKind = 'View' | 'Active' | 'Committed' | 'Snapshot';
const KINDS: ReadonlyArray<SnapshotKind | null> = [null, 'View', 'Active', 'Committed', 'Snapshot'];

export interface SnapshotInfo {
  /** The key: meta.db's `name` for it, `<namespace>/<seq>/<key>`. */
  backendKey: string;
  /** Its directory is `snapshots/<id>/` (decimal, as containerd names it). */
  id: string | null;
  kind: SnapshotKind | null;
  /** The parent's backend key; null for a bottom layer. */
  parent: string | null;
  /** Committed only (null otherwise): bytes of fs/ at commit, du -sB1 of it, the directory included. */
  size: number | null;
  /** Committed only: entries of fs/, fs/ itself included. */
  inodes: number | null;
  labels: Map<string, string>;
  createdAt: string | null;
}

export interface SnapshotsDb {
  /** By backend key. */
  snapshots: Map<string, SnapshotInfo>;
}

function parseKind(r: RecordReader): SnapshotKind | null {
  const raw = r.raw('kind', true);
  if (raw === null) return null;
  const kind = raw.length === 1 ? (KINDS[raw[0]!] ?? null) : null;
  if (kind === null) r.problem(`kind is not 1, 2, 3 or 4: 0x${raw.toString('hex')}`);
  return kind;
}

function parseInfo(backendKey: string, r: RecordReader): SnapshotInfo {
  const id = r.unsigned('id', true);
  const kind = parseKind(r);
  // containerd stores usage when it commits; an Active or View snapshot must be measured instead.
  const committed = kind === 'Committed';
  const info: SnapshotInfo = {
    backendKey,
    id: id === null ? null : String(id),
    kind,
    parent: r.text('parent'),
    size: r.count('size', committed),
    inodes: r.count('inodes', committed),
    labels: r.labels(),
    createdAt: r.time('createdat'),
  };
  if (info.parent === '') info.parent = null;
  r.ignore('updatedat');
  r.done();
  return info;
}

/** Parent links that meta.db and the directories depend on: each must lead to a committed snapshot. */
function checkLinks(snapshots: Map<string, SnapshotInfo>, readers: Map<string, RecordReader>): void {
  const byId = new Map<string, string>();
  for (const s of snapshots.values()) {
    const r = readers.get(s.backendKey)!;
    if (s.id !== null) {
      const other = byId.get(s.id);
      if (other === undefined) byId.set(s.id, s.backendKey);
      else {
        r.problem(`id ${s.id} is also the id of ${JSON.stringify(other)}`);
        readers.get(other)?.problem(`id ${s.id} is also the id of ${JSON.stringify(s.backendKey)}`);
      }
    }
    if (s.parent === null) continue;
    const parent = snapshots.get(s.parent);
    if (parent === undefined) r.problem(`parent ${JSON.stringify(s.parent)} is not recorded`);
    else if (parent.kind !== null && parent.kind !== 'Committed') {
      r.problem(`parent ${JSON.stringify(s.parent)} is ${parent.kind}, not Committed`);
    }
  }
}

/** Each v1/parents entry must be the link of one snapshot to its parent, and each link an entry. */
function checkParentIndex(v1: RecordReader, index: RecordReader | null, snapshots: Map<string, SnapshotInfo>): void {
  // Entries as `<parent id>/<child id>/<child key as latin1>`, the way the index holds them.
  const expected = new Set<string>();
  for (const s of snapshots.values()) {
    const parentId = s.parent === null ? null : (snapshots.get(s.parent)?.id ?? null);
    if (s.id !== null && parentId !== null) expected.add(`${parentId}/${s.id}/${Buffer.from(s.backendKey).toString('latin1')}`);
  }
  if (index === null) {
    if (expected.size > 0) v1.problem('parents is missing, though snapshots have parents');
    return;
  }
  if (index.node.broken) return;
  for (const [raw, value] of index.node.values) {
    index.ignore(raw);
    const key = Buffer.from(raw, 'latin1');
    const parent = decodeUvarint(key);
    const child = 'end' in parent && key[parent.end] === 0 ? decodeUvarint(key, parent.end + 1) : null;
    if (!('end' in parent) || child === null || !('end' in child) || child.end !== key.length) {
      index.problem(`entry ${shownKey(raw)} is not <parent id> 0x00 <child id>`);
    } else if (!expected.delete(`${parent.value}/${child.value}/${value.toString('latin1')}`)) {
      index.problem(`entry ${parent.value} → ${child.value} (${shownKey(value.toString('latin1'))}) is no snapshot's link`);
    }
  }
  for (const missing of expected) {
    const [parentId, childId] = missing.split('/');
    index.problem(`no entry for the link of snapshot ${childId} to its parent ${parentId}`);
  }
  index.done();
}

/** Every snapshot of the overlayfs snapshotter's metadata.db; `source` names the file in problems. */
export function parseSnapshotsDb(db: BoltDb, problems: Problem[], source = 'metadata.db'): SnapshotsDb {
  const ctx = { source, problems };
  const root = new RecordReader(ctx, [], parseTree(db, ctx));
  const out: SnapshotsDb = { snapshots: new Map() };
  // The snapshotter creates its buckets with its first snapshot: no v1 is no snapshots.
  const v1 = root.bucket('v1');
  if (v1 !== null) {
    const bucket = v1.bucket('snapshots');
    const readers = new Map(bucket?.records() ?? []);
    for (const [key, r] of readers) out.snapshots.set(key, parseInfo(key, r));
    bucket?.done();
    checkLinks(out.snapshots, readers);
    const index = v1.bucket('parents');
    if (bucket !== null && !bucket.node.broken) checkParentIndex(v1, index, out.snapshots);
    v1.done();
  }
  root.done();
  return out;
}
