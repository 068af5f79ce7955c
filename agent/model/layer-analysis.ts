// What upper layers hide and what containers copied up: pure functions over layer indexes.
// Paths are compared by hash (collectors/path-index.ts); a path's ancestors are found through
// the parent links of its own layer, since an overlay diff always holds the parents of what it
// changes.
import type { Bytes, LayerIndex } from '../../collectors/facts.js';
import { find, KIND } from '../../collectors/path-index.js';
import { HashSet } from './hash-set.js';

const isDir = (kind: number) => kind === KIND.dir || kind === KIND.opaque;

/**
 * What the layers above hide from the ones below. A non-directory (file, symlink, whiteout) hides
 * its path and everything under it; an opaque directory hides what is under it; a directory hides
 * a non-directory at its own path.
 */
class Masks {
  private readonly full = new HashSet();
  private readonly below = new HashSet();
  private readonly dirs = new HashSet();

  /**
   * Whether entry `i` is hidden. `shadow` marks the directories of this layer whose whole content
   * is hidden; entries come after their parents, so one look at the parent replaces a walk up
   * every ancestor.
   */
  hides(layer: LayerIndex, i: number, shadow: Uint8Array): boolean {
    const h = layer.hashes[i]!;
    const p = layer.parents[i]!;
    const underShadow = p >= 0 && shadow[p] === 1;
    const replaced = this.full.has(h);
    if (isDir(layer.kinds[i]!)) {
      if (underShadow || replaced || this.below.has(h)) shadow[i] = 1;
      return underShadow || replaced;
    }
    return underShadow || replaced || this.dirs.has(h);
  }

  add(layer: LayerIndex, from = 0, to = layer.count): void {
    // Most entries of a layer are files, which all land in `full`.
    if (from === 0) this.full.reserve(layer.count);
    for (let i = from; i < to; i++) {
      const h = layer.hashes[i]!;
      const kind = layer.kinds[i]!;
      if (kind === KIND.dir) this.dirs.add(h);
      else if (kind === KIND.opaque) {
        this.dirs.add(h);
        this.below.add(h);
      } else this.full.add(h);
    }
  }
}

type LinkGroups = Map<number, { hidden: boolean; disk: number; apparent: number }>;

/**
 * Adds to `out` the bytes of entries [from, to) of a layer that `masks` hide. Paths of one
 * hardlinked inode are gathered in `linked` and judged together once the whole layer is read: the
 * inode counts only if every one of its paths is hidden.
 */
function addHidden(layer: LayerIndex, masks: Masks, from: number, to: number, out: Bytes, linked: LinkGroups, shadow: Uint8Array): void {
  // Hardlinked entries are few and listed in entry order: walk that list beside the entries.
  let next = lowerBound(layer.linked, from);
  for (let i = from; i < to; i++) {
    const hidden = masks.hides(layer, i, shadow);
    if (layer.linked[next] !== i) {
      if (hidden) {
        out.disk += layer.disk[i]!;
        out.apparent += layer.apparent[i]!;
      }
      continue;
    }
    const ino = layer.linkedInos[next++]!;
    const g = linked.get(ino) ?? { hidden: true, disk: 0, apparent: 0 };
    g.hidden &&= hidden;
    g.disk += layer.disk[i]!;
    g.apparent += layer.apparent[i]!;
    linked.set(ino, g);
  }
}

/** The first position in an ascending array whose value is >= x. */
function lowerBound(a: Int32Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** How many entries are read between two pauses of a stepped analysis. */
const STEP = 16_384;

/**
 * Wasted bytes of an image (layers bottom first): what its lower layers still store but its upper
 * layers hide. A file overwritten twice is wasted twice, in the two layers that hold the hidden
 * copies; each copy is counted once however many layers above hide it. Memory is the masks of
 * the layers above the one being read, never a copy of a layer. A generator that pauses every
 * STEP entries, so the agent can run it without holding its event loop (computeWasteYielding).
 */
export function* wasteSteps(layers: LayerIndex[]): Generator<void, Bytes> {
  const masks = new Masks();
  const total = { disk: 0, apparent: 0 };
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i]!;
    if (i < layers.length - 1) {
      const linked: LinkGroups = new Map();
      const shadow = new Uint8Array(layer.count);
      for (let from = 0; from < layer.count; from += STEP) {
        addHidden(layer, masks, from, Math.min(layer.count, from + STEP), total, linked, shadow);
        yield;
      }
      for (const g of linked.values()) {
        if (g.hidden) {
          total.disk += g.disk;
          total.apparent += g.apparent;
        }
      }
    }
    // The bottom layer hides nothing further down: no need to remember it.
    if (i > 0) {
      for (let from = 0; from < layer.count; from += STEP) {
        masks.add(layer, from, Math.min(layer.count, from + STEP));
        yield;
      }
    }
  }
  return total;
}

export function computeWaste(layers: LayerIndex[]): Bytes {
  const steps = wasteSteps(layers);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

export async function computeWasteYielding(layers: LayerIndex[]): Promise<Bytes> {
  const steps = wasteSteps(layers);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** Whether entry `i` of `from` (by its path) is visible in the merged view of `layers` (bottom first). */
export function existsIn(layers: LayerIndex[], from: LayerIndex, i: number): boolean {
  const hash = from.hashes[i]!;
  const ancestors: number[] = [];
  for (let p = from.parents[i]!; p >= 0; p = from.parents[p]!) ancestors.push(from.hashes[p]!);
  for (let l = layers.length - 1; l >= 0; l--) {
    const layer = layers[l]!;
    const j = find(layer, hash);
    if (j >= 0) return layer.kinds[j] !== KIND.whiteout;
    for (const a of ancestors) {
      const k = find(layer, a);
      // A deleted or replaced parent, or an opaque one, ends the search: nothing below shows through.
      if (k >= 0 && layer.kinds[k] !== KIND.dir) return false;
    }
  }
  return false;
}

/** Bytes of a writable layer at paths the image already had: what overlayfs copy_up cost. */
export function computeCopiedUp(writable: LayerIndex, imageLayers: LayerIndex[]): Bytes {
  const out = { disk: 0, apparent: 0 };
  if (imageLayers.length === 0) return out;
  for (let i = 0; i < writable.count; i++) {
    if (writable.kinds[i] === KIND.whiteout) continue;
    if (existsIn(imageLayers, writable, i)) {
      out.disk += writable.disk[i]!;
      out.apparent += writable.apparent[i]!;
    }
  }
  return out;
}
