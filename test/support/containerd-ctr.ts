// What containerd itself says about a containerd host, through `ctr` (in the client's default
// namespace: moby for a containerd-store daemon, k8s.io for a node; inNamespace picks another):
// its snapshots and their parents, which snapshots/<id>/ directory holds which snapshot (from the
// mounts the snapshotter hands out), and a synchronous garbage collection. These are the
// containerd oracles' view of the host; nothing here reads layerdu's code or bbolt.
import { readdir } from 'node:fs/promises';
import * as path from 'node:path';
import type { StartedContainerd } from './containerd-store.js';

/** What these oracles need of a private containerd (a containerd-store daemon or a node). */
export type CtrClient = Pick<StartedContainerd, 'ctr'> & { containerd: { root: string } };

/** The same containerd, with `ns` as the namespace of calls that name none. */
export function inNamespace(c: CtrClient, ns: string): CtrClient {
  return { containerd: c.containerd, ctr: (args, o = {}) => c.ctr(args, { namespace: ns, ...o }) };
}

export const SNAPSHOTTER = 'io.containerd.snapshotter.v1.overlayfs';
export const CONTENT = 'io.containerd.content.v1.content';
/** The two bbolt files, relative to the containerd root. */
export const META_DB = 'io.containerd.metadata.v1.bolt/meta.db';
export const METADATA_DB = `${SNAPSHOTTER}/metadata.db`;

export interface Snapshot {
  key: string;
  parent: string | null;
  kind: 'Active' | 'Committed' | 'View';
}

/** `ctr snapshots ls`: KEY PARENT KIND (PARENT empty for a bottom layer). */
export function parseSnapshots(text: string): Map<string, Snapshot> {
  const out = new Map<string, Snapshot>();
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/).filter(Boolean);
    if (f.length === 3) out.set(f[0]!, { key: f[0]!, parent: f[1]!, kind: f[2] as Snapshot['kind'] });
    else if (f.length === 2) out.set(f[0]!, { key: f[0]!, parent: null, kind: f[1] as Snapshot['kind'] });
  }
  return out;
}

/** Keys from `top` down its parent chain, top first. */
export function chainOf(snaps: Map<string, Snapshot>, top: string): string[] {
  const out: string[] = [];
  for (let k: string | null = top; k !== null; k = snaps.get(k)?.parent ?? null) {
    if (!snaps.has(k)) throw new Error(`snapshot ${k} (on the chain of ${top}) is not in ctr snapshots ls`);
    out.push(k);
  }
  return out;
}

interface Mount {
  type: string;
  source: string;
  options: string[];
}

/** ctr's mounts: JSON (`view --mounts`) or `mount -t TYPE SOURCE TARGET -o OPTIONS` lines. */
export function parseMounts(text: string): Mount[] {
  const t = text.trim();
  if (t.startsWith('[')) {
    return (JSON.parse(t) as Array<Record<string, unknown>>).map((m) => ({
      type: String(m.type ?? m.Type),
      source: String(m.source ?? m.Source),
      options: ((m.options ?? m.Options ?? []) as string[]).map(String),
    }));
  }
  const out: Mount[] = [];
  for (const line of t.split('\n')) {
    const m = /^mount -t (\S+) (\S+) \S+ -o (\S*)$/.exec(line.trim());
    if (m) out.push({ type: m[1]!, source: m[2]!, options: m[3]!.split(',') });
  }
  if (out.length !== 1) throw new Error(`expected one mount, got: ${text}`);
  return out;
}

/** `…/snapshots/<id>/fs` → `<id>` */
function idOfFs(p: string): string {
  const m = /\/snapshots\/(\d+)\/fs$/.exec(p);
  if (!m) throw new Error(`not a snapshot fs dir: ${p}`);
  return m[1]!;
}

/** The snapshot dirs a mount names: upper (null for a read-only mount) and lowers, top first. */
function dirsOf(text: string): { upper: string | null; lowers: string[] } {
  const [m] = parseMounts(text);
  const opt = (name: string) => m!.options.find((o) => o.startsWith(`${name}=`))?.slice(name.length + 1) ?? null;
  if (m!.type === 'overlay') {
    const upper = opt('upperdir');
    return { upper: upper === null ? null : idOfFs(upper), lowers: (opt('lowerdir') ?? '').split(':').filter(Boolean).map(idOfFs) };
  }
  if (m!.type === 'bind') {
    const rw = m!.options.includes('rw');
    return rw ? { upper: idOfFs(m!.source), lowers: [] } : { upper: null, lowers: [idOfFs(m!.source)] };
  }
  throw new Error(`unexpected mount type ${m!.type}: ${text}`);
}

/** Every numbered directory under snapshots/ (rm-* dirs would be snapshots mid-removal). */
export async function snapshotDirs(containerdRoot: string): Promise<string[]> {
  const names = await readdir(path.join(containerdRoot, SNAPSHOTTER, 'snapshots'));
  const odd = names.filter((n) => !/^\d+$/.test(n));
  if (odd.length > 0) throw new Error(`unexpected entries under snapshots/: ${odd.join(' ')}`);
  return names.sort((a, b) => Number(a) - Number(b));
}

/** Runs a garbage collection and waits for it (snapshotter cleanup included): a lease removed with --sync. */
export async function collectGarbage(d: CtrClient): Promise<void> {
  const out = (await d.ctr(['leases', 'create'])).trim().split(/\s+/);
  const id = out[out.length - 1]!;
  await d.ctr(['leases', 'rm', '--sync', id]);
}

export interface SnapshotIds {
  /** Every Active and Committed snapshot's directory id, by key. */
  idOfKey: Map<string, string>;
  /** The directories of View snapshots: their mounts name only their parents' directories. */
  viewDirs: string[];
  /** What the probing took, in seconds. */
  seconds: number;
}

/**
 * Which snapshots/<id> holds which snapshot, from the snapshotter's own mounts: `ctr snapshots
 * mounts` of every Active snapshot (upperdir = its own, lowerdir = its parents'), and of a View
 * made for the purpose on each Committed snapshot not yet placed (lowerdir = the chain below it,
 * top first). The probe views are removed and collected before this returns, and the directories
 * are then checked to be exactly those there were before.
 */
export async function mapSnapshotIds(d: CtrClient, snaps: Map<string, Snapshot>): Promise<SnapshotIds> {
  const r = await mapSnapshotIdsAcross([{ client: d, snaps }]);
  return { idOfKey: r.idOfKey[0]!, viewDirs: r.viewDirs, seconds: r.seconds };
}

/**
 * mapSnapshotIds over several namespaces of one containerd (every snapshot dir belongs to one of
 * them): `idOfKey[i]` places `spaces[i]`'s keys.
 */
export async function mapSnapshotIdsAcross(
  spaces: Array<{ client: CtrClient; snaps: Map<string, Snapshot> }>,
): Promise<{ idOfKey: Array<Map<string, string>>; viewDirs: string[]; seconds: number }> {
  const t0 = Date.now();
  const d = spaces[0]!.client;
  await collectGarbage(d);
  const before = await snapshotDirs(d.containerd.root);
  const idOfKey: Array<Map<string, string>> = [];
  const placed = new Set<string>();
  let views = 0;
  for (const { client, snaps } of spaces) {
    const ids = await placeSnapshots(client, snaps);
    idOfKey.push(ids);
    for (const id of ids.values()) {
      if (placed.has(id)) throw new Error(`snapshot dir ${id} placed in two namespaces`);
      placed.add(id);
    }
    views += [...snaps.values()].filter((s) => s.kind === 'View').length;
  }
  await collectGarbage(d);
  const after = await snapshotDirs(d.containerd.root);
  if (after.join(' ') !== before.join(' ')) {
    throw new Error(`snapshot dirs changed while probing: before ${before.join(' ')}, after ${after.join(' ')}`);
  }
  const stray = [...placed].filter((id) => !before.includes(id));
  if (stray.length > 0) throw new Error(`mounts name dirs that do not exist: ${stray.join(' ')}`);
  const viewDirs = before.filter((id) => !placed.has(id));
  if (viewDirs.length !== views) {
    throw new Error(`${viewDirs.length} snapshot dirs unplaced (${viewDirs.join(' ')}), but ctr lists ${views} views`);
  }
  return { idOfKey, viewDirs, seconds: (Date.now() - t0) / 1000 };
}

/** One namespace's keys → dirs, its probe views removed (not yet collected). */
async function placeSnapshots(d: CtrClient, snaps: Map<string, Snapshot>): Promise<Map<string, string>> {
  const idOfKey = new Map<string, string>();
  const place = (key: string, id: string): void => {
    const known = idOfKey.get(key);
    if (known !== undefined && known !== id) throw new Error(`snapshot ${key}: directory ${known} and ${id}`);
    idOfKey.set(key, id);
  };
  const placeChain = (keys: string[], ids: string[], what: string): void => {
    if (keys.length !== ids.length) throw new Error(`${what}: chain ${keys.join(' <- ')} but mount dirs ${ids.join(':')}`);
    keys.forEach((k, i) => place(k, ids[i]!));
  };
  for (const s of snaps.values()) {
    if (s.kind !== 'Active') continue;
    const m = dirsOf(await d.ctr(['snapshots', 'mounts', '/mnt', s.key]));
    if (m.upper === null) throw new Error(`active snapshot ${s.key}: no upper dir`);
    place(s.key, m.upper);
    placeChain(s.parent === null ? [] : chainOf(snaps, s.parent), m.lowers, s.key);
  }
  // Deepest first: one probe places a whole chain.
  const committed = [...snaps.values()].filter((s) => s.kind === 'Committed').map((s) => chainOf(snaps, s.key));
  committed.sort((a, b) => b.length - a.length);
  const probes: string[] = [];
  for (const chain of committed) {
    if (idOfKey.has(chain[0]!)) continue;
    const probe = `ldu-probe-${probes.length}`;
    probes.push(probe);
    const m = dirsOf(await d.ctr(['snapshots', 'view', '--mounts', probe, chain[0]!]));
    placeChain(chain, m.lowers, `view of ${chain[0]}`);
  }
  // ctr holds a view only with the lease of its own command: containerd's collection may have
  // taken one already, which is what removing it was for.
  for (const probe of probes) {
    await d.ctr(['snapshots', 'rm', probe]).catch((e: Error) => {
      if (!/not found/.test(e.message)) throw e;
    });
  }
  return idOfKey;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export interface ImageManifest {
  /** The image's target: its manifest (the image id on this store). */
  target: Descriptor;
  config: Descriptor;
  layers: Descriptor[];
}

/** The manifest of each image (by id = its manifest digest), from `ctr images ls` and `ctr content get`. */
export async function readManifests(d: CtrClient, ids: string[]): Promise<Map<string, ImageManifest>> {
  const targets = new Map<string, Descriptor>();
  for (const line of (await d.ctr(['images', 'ls'])).split('\n').slice(1)) {
    const [, mediaType, digest] = line.trim().split(/\s+/);
    if (mediaType && digest) targets.set(digest, { mediaType, digest, size: -1 });
  }
  const out = new Map<string, ImageManifest>();
  for (const id of ids) {
    const target = targets.get(id);
    if (!target) throw new Error(`image ${id} not in ctr images ls`);
    if (!/manifest/.test(target.mediaType)) throw new Error(`image ${id}: target is ${target.mediaType}, not a manifest`);
    const text = await d.ctr(['content', 'get', id]);
    const m = JSON.parse(text) as { config: Descriptor; layers: Descriptor[] };
    out.set(id, { target: { ...target, size: Buffer.byteLength(text) }, config: m.config, layers: m.layers });
  }
  return out;
}
