// Independent answers about the containerd-store fixture (containerd-fixture.ts): du, find and
// stat of the snapshot dirs and blobs, through the key → directory map ctr gave (containerd-ctr.ts).
// An image's units (../shared/contract.md, "Stores"): every snapshot on its top snapshot's parent
// chain (-init included), disk = du -sB1 of snapshots/<id>/fs; and its present blobs (manifest,
// config, layers), disk = st_blocks * 512, apparent = st_size.
import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import { run } from './commands.js';
import { chainOf, type Snapshot } from './containerd-ctr.js';
import { duB1 } from './oracles.js';

/** What the oracles need of a host: where things are and what ctr said. */
export interface CdHost {
  root: string;
  containerdRoot: string;
  snapshotsDir: string;
  blobsDir: string;
  snapshots: Map<string, Snapshot>;
  idOfKey: Map<string, string>;
}

export interface Sizes {
  disk: number;
  apparent: number;
}

/**
 * The contract's apparent bytes of a tree: st_size of every non-directory entry, each inode
 * (device and inode number) once; from GNU find, which does not follow symlinks.
 */
export async function apparentOf(dir: string): Promise<number> {
  const out = await run('find', [dir, '!', '-type', 'd', '-printf', '%D:%i %s\n']);
  const seen = new Set<string>();
  let total = 0;
  for (const line of out.split('\n')) {
    const [ino, size] = line.split(' ');
    if (!ino || size === undefined || seen.has(ino)) continue;
    seen.add(ino);
    total += Number(size);
  }
  return total;
}

/** du -sB1 and the apparent bytes of a tree. */
export async function sizesOf(dir: string): Promise<Sizes> {
  return { disk: await duB1(dir), apparent: await apparentOf(dir) };
}

/** `snapshots/<id>/fs` of a snapshot key. */
export function fsOf(h: CdHost, key: string): string {
  const id = h.idOfKey.get(key);
  if (id === undefined) throw new Error(`snapshot ${key}: no directory known`);
  return path.join(h.snapshotsDir, id, 'fs');
}

export function blobPath(h: CdHost, digest: string): string {
  return path.join(h.blobsDir, digest.replace(/^sha256:/, ''));
}

/** A blob's sizes, or null when its file is not there. */
export async function blobSizes(h: CdHost, digest: string): Promise<Sizes | null> {
  try {
    const st = await stat(blobPath(h, digest));
    return { disk: st.blocks * 512, apparent: st.size };
  } catch {
    return null;
  }
}

/** du -sB1 -x of the docker root plus that of the containerd root. */
export async function duRoots(h: { root: string; containerdRoot: string }): Promise<number> {
  let total = 0;
  for (const r of [h.root, h.containerdRoot]) total += Number((await run('du', ['-sB1', '-x', r])).split('\t')[0]);
  return total;
}

export interface Unit extends Sizes {
  /** `snapshot:<key>` or `blob:<digest>` */
  unit: string;
  kind: 'snapshot' | 'blob';
  key: string;
}

/** An image's chain of snapshot keys, bottom first. */
export function imageChain(h: CdHost, topChainId: string): string[] {
  return chainOf(h.snapshots, topChainId).reverse();
}

/** Measures each path once per oracle run (du of the same dir twice gives the same answer). */
export class Measure {
  private readonly dirs = new Map<string, Promise<Sizes>>();
  constructor(readonly h: CdHost) {}

  dir(p: string): Promise<Sizes> {
    let s = this.dirs.get(p);
    if (!s) this.dirs.set(p, (s = sizesOf(p)));
    return s;
  }

  snapshot(key: string): Promise<Sizes> {
    return this.dir(fsOf(this.h, key));
  }

  /** The image's units: its chain's snapshots, then its manifest, config and layer blobs that are present. */
  async units(img: { topChainId: string; blobs: string[] }): Promise<Unit[]> {
    const out: Unit[] = [];
    for (const key of imageChain(this.h, img.topChainId)) {
      out.push({ unit: `snapshot:${key}`, kind: 'snapshot', key, ...(await this.snapshot(key)) });
    }
    for (const digest of new Set(img.blobs)) {
      const s = await blobSizes(this.h, digest);
      if (s) out.push({ unit: `blob:${digest}`, kind: 'blob', key: digest, ...s });
    }
    return out;
  }
}

export interface ImageExpect {
  disk: { total: number; shared: number; unique: number };
  apparent: { total: number; shared: number; unique: number };
  content: Sizes;
  /** Docker's own rule: blob sizes plus du of the snapshots. */
  dockerSize: number;
  units: Unit[];
}

/** What each image's figures must be, over units, shared = held by two or more of `images`. */
export async function expectImages(
  m: Measure,
  images: Array<{ id: string; topChainId: string; blobs: string[] }>,
): Promise<Map<string, ImageExpect>> {
  const unitsOf = new Map<string, Unit[]>();
  const holders = new Map<string, number>();
  for (const img of images) {
    const units = await m.units(img);
    unitsOf.set(img.id, units);
    for (const u of units) holders.set(u.unit, (holders.get(u.unit) ?? 0) + 1);
  }
  const out = new Map<string, ImageExpect>();
  for (const [id, units] of unitsOf) {
    const sum = (f: (u: Unit) => boolean, basis: keyof Sizes) => units.filter(f).reduce((s, u) => s + u[basis], 0);
    const all = () => true;
    const shared = (u: Unit) => (holders.get(u.unit) ?? 0) > 1;
    const blob = (u: Unit) => u.kind === 'blob';
    const disk = { total: sum(all, 'disk'), shared: sum(shared, 'disk'), unique: 0 };
    const apparent = { total: sum(all, 'apparent'), shared: sum(shared, 'apparent'), unique: 0 };
    disk.unique = disk.total - disk.shared;
    apparent.unique = apparent.total - apparent.shared;
    const content = { disk: sum(blob, 'disk'), apparent: sum(blob, 'apparent') };
    out.set(id, { disk, apparent, content, dockerSize: content.apparent + sum((u) => !blob(u), 'disk'), units });
  }
  return out;
}
