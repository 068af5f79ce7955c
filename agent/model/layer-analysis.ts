// What upper layers hide and what containers copied up: pure functions over layer indexes.
// Paths are compared by hash (collectors/lib/path-index.ts); a path's ancestors are found through
// the parent links of its own layer, since an overlay diff always holds the parents of what it
// changes.
import type { Bytes, LayerIndex } from '../../collectors/lib/facts.js';
import { find, KIND } from '../../collectors/lib/path-index.js';
import { HashFlags } from '../../collectors/lib/hash-flags.js';

const isDir = (kind: number) => kind === KIND.dir || kind === KIND.opaque;

/** How many entries are read between two pauses of a stepped analysis. */
const STEP = 8192;

/**
 * What the layers above hide from the ones below. A non-directory (file, symlink, whiteout) hides
 * its path and everything under it; an opaque directory hides what is under it; a directory hides
 * a non-directory at its own path.
 *
 * Layers from above are merged into one set of path flags, one mark per entry, which then serves
 * every layer below. A layer below that is much smaller than the layers not merged yet is instead
 * looked up from their side (a scan of their entries against its own few paths), so that a small
 * base under a big layer never pays for marking the big one.
 */
class Masks {
  private static readonly NON_DIR = 1;
  private static readonly OPAQUE = 2;
  private static readonly DIR = 4;
  private readonly merged = new HashFlags();
  private pending: LayerIndex[] = [];
  private pendingEntries = 0;
  /** Scans of the current pending layers so far: past a few, merging them is the cheaper. */
  private scans = 0;
  /** Flags from the pending layers, by entry of the layer being checked; null when all are merged. */
  private scanned: Uint8Array | null = null;

  private static flagsOf(kind: number): number {
    return kind === KIND.dir ? Masks.DIR : kind === KIND.opaque ? Masks.DIR | Masks.OPAQUE : Masks.NON_DIR;
  }

  /** Makes the layers above ready for checking `layer`, pausing every STEP entries. */
  *prepare(layer: LayerIndex): Generator<void> {
    this.scanned = null;
    if (this.pending.length === 0) return;
    if (layer.count * 8 < this.pendingEntries && this.scans < 3) {
      this.scans += 1;
      const scanned = new Uint8Array(layer.count);
      for (const above of this.pending) {
        for (let e = 0; e < above.count; e++) {
          const k = find(layer, above.hashes[e]!);
          if (k >= 0) scanned[k]! |= Masks.flagsOf(above.kinds[e]!);
          if (e % STEP === STEP - 1) yield;
        }
      }
      this.scanned = scanned;
      return;
    }
    this.merged.reserve(this.pendingEntries);
    for (const above of this.pending) {
      for (let e = 0; e < above.count; e++) {
        this.merged.mark(above.hashes[e]!, Masks.flagsOf(above.kinds[e]!));
        if (e % STEP === STEP - 1) yield;
      }
    }
    this.pending = [];
    this.pendingEntries = 0;
    this.scans = 0;
  }

  /** `layer` is above the ones checked from now on. */
  push(layer: LayerIndex): void {
    this.pending.push(layer);
    this.pendingEntries += layer.count;
  }

  /**
   * Whether entry `i` of the layer being checked is hidden. `shadow` marks the directories of this
   * layer whose whole content is hidden; entries come after their parents, so one look at the
   * parent replaces a walk up every ancestor.
   */
  hides(layer: LayerIndex, i: number, shadow: Uint8Array): boolean {
    const p = layer.parents[i]!;
    const above = this.merged.get(layer.hashes[i]!) | (this.scanned ? this.scanned[i]! : 0);
    const hidden = (p >= 0 && shadow[p] === 1) || (above & Masks.NON_DIR) !== 0;
    if (isDir(layer.kinds[i]!)) {
      if (hidden || (above & Masks.OPAQUE) !== 0) shadow[i] = 1;
      return hidden;
    }
    return hidden || (above & Masks.DIR) !== 0;
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

/**
 * Wasted bytes of an image (layers bottom first): what its lower layers still store but its upper
 * layers hide. A file overwritten twice is wasted twice, in the two layers that hold the hidden
 * copies; each copy is counted once however many layers above hide it. Memory is the masks of
 * the layers above the one being read, never a copy of a layer. A generator that pauses every
 * STEP entries, so the agent can run it without holding its event loop (runInSlices).
 */
export function* wasteSteps(layers: LayerIndex[]): Generator<void, Bytes> {
  const masks = new Masks();
  const total = { disk: 0, apparent: 0 };
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i]!;
    if (i < layers.length - 1) {
      yield* masks.prepare(layer);
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
    if (i > 0) masks.push(layer);
  }
  return total;
}

/** A stepped analysis run straight through. */
function runToEnd<T>(steps: Generator<void, T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

export function computeWaste(layers: LayerIndex[]): Bytes {
  return runToEnd(wasteSteps(layers));
}

/**
 * Bytes of a writable layer at paths its image shows: what overlayfs copy_up cost. A path shows
 * when the highest image layer that holds it (as anything but a whiteout) is no lower than the
 * highest that hides what is under one of its ancestors (a file, whiteout or opaque directory
 * there); within one layer the path itself wins. One pass over the image layers, looking each
 * entry up among the writable layer's paths, which are usually few.
 */
export function computeCopiedUp(writable: LayerIndex, imageLayers: LayerIndex[]): Bytes {
  return runToEnd(copiedUpSteps(writable, imageLayers));
}

/** computeCopiedUp, pausing every STEP entries (runInSlices in the agent). */
export function* copiedUpSteps(writable: LayerIndex, imageLayers: LayerIndex[]): Generator<void, Bytes> {
  const out = { disk: 0, apparent: 0 };
  if (imageLayers.length === 0) return out;
  const n = writable.count;
  // By writable entry, 1 + the number of the highest image layer doing so; 0 for none. A byte
  // each on every real image (overlay2 stacks at most 128 layers): a writable layer of millions
  // of paths costs 3 bytes a path here, not 13.
  const layerNumbers = (len: number) => (imageLayers.length < 255 ? new Uint8Array(len) : new Int32Array(len));
  const holds = layerNumbers(n); // holds its path
  const hidesBelow = layerNumbers(n); // holds its path as something that hides what is under it
  const whiteout = new Uint8Array(n); // its path is a whiteout in the layer of `holds`
  for (let l = 0; l < imageLayers.length; l++) {
    const layer = imageLayers[l]!;
    for (let e = 0; e < layer.count; e++) {
      if (e % STEP === STEP - 1) yield;
      const k = find(writable, layer.hashes[e]!);
      if (k < 0) continue;
      const kind = layer.kinds[e]!;
      holds[k] = l + 1;
      whiteout[k] = kind === KIND.whiteout ? 1 : 0;
      hidesBelow[k] = kind === KIND.dir ? hidesBelow[k]! : l + 1;
    }
  }
  // The highest layer hiding what is under an ancestor. Parents come before their children, so
  // by the time an entry is looked at its parent's hidesBelow already says what hides anything
  // under the parent, the parent's own ancestors included; the entry's becomes that too.
  for (let i = 0; i < n; i++) {
    if (i % STEP === STEP - 1) yield;
    const p = writable.parents[i]!;
    const ancestorsHidden = p >= 0 ? hidesBelow[p]! : 0;
    if (ancestorsHidden > hidesBelow[i]!) hidesBelow[i] = ancestorsHidden;
    if (writable.kinds[i] === KIND.whiteout) continue;
    if (holds[i]! > 0 && whiteout[i] === 0 && holds[i]! >= ancestorsHidden) {
      out.disk += writable.disk[i]!;
      out.apparent += writable.apparent[i]!;
    }
  }
  return out;
}
