// What upper layers hide and what containers copied up: pure functions over layer indexes.
import type { Bytes, IndexEntry, LayerIndex } from '../../collectors/facts.js';

function* ancestors(path: string): Generator<string> {
  for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) yield path.slice(0, i);
}

/**
 * What the layers above hide from the ones below. A non-directory (file, symlink, whiteout) hides
 * its path and everything under it; an opaque directory hides what is under it; a directory hides
 * a non-directory at its own path.
 */
class Masks {
  private readonly full = new Set<string>();
  private readonly below = new Set<string>();
  private readonly dirs = new Set<string>();

  hides(path: string, e: IndexEntry): boolean {
    if (this.full.has(path)) return true;
    if (e.kind !== 'dir' && e.kind !== 'opaque' && this.dirs.has(path)) return true;
    if (this.full.size === 0 && this.below.size === 0) return false;
    for (const a of ancestors(path)) if (this.full.has(a) || this.below.has(a)) return true;
    return false;
  }

  add(layer: LayerIndex): void {
    for (const [path, e] of layer) {
      if (e.kind === 'dir') this.dirs.add(path);
      else if (e.kind === 'opaque') {
        this.dirs.add(path);
        this.below.add(path);
      } else this.full.add(path);
    }
  }
}

/** Bytes of one layer's entries that `masks` hide; a hardlinked inode counts only if all its paths are hidden. */
function hiddenBytes(layer: LayerIndex, masks: Masks): Bytes {
  const out = { disk: 0, apparent: 0 };
  const linked = new Map<number, { hidden: boolean; disk: number; apparent: number }>();
  for (const [path, e] of layer) {
    const hidden = masks.hides(path, e);
    if (e.ino === undefined) {
      if (hidden) {
        out.disk += e.disk;
        out.apparent += e.apparent;
      }
      continue;
    }
    const g = linked.get(e.ino) ?? { hidden: true, disk: 0, apparent: 0 };
    g.hidden &&= hidden;
    g.disk += e.disk;
    g.apparent += e.apparent;
    linked.set(e.ino, g);
  }
  for (const g of linked.values()) {
    if (g.hidden) {
      out.disk += g.disk;
      out.apparent += g.apparent;
    }
  }
  return out;
}

/**
 * Wasted bytes of an image (layers bottom first): what its lower layers still store but its upper
 * layers hide. A file overwritten twice is wasted twice, in the two layers that hold the hidden
 * copies; each copy is counted once however many layers above hide it.
 */
export function computeWaste(layers: LayerIndex[]): Bytes {
  const masks = new Masks();
  const total = { disk: 0, apparent: 0 };
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i]!;
    if (i < layers.length - 1) {
      const h = hiddenBytes(layer, masks);
      total.disk += h.disk;
      total.apparent += h.apparent;
    }
    masks.add(layer);
  }
  return total;
}

/** Whether `path` is visible in the merged view of `layers` (bottom first). */
export function existsIn(layers: LayerIndex[], path: string): boolean {
  const parents = [...ancestors(path)];
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i]!;
    const e = layer.get(path);
    if (e) return e.kind !== 'whiteout';
    for (const a of parents) {
      const p = layer.get(a);
      // A deleted or replaced parent, or an opaque one, ends the search: nothing below shows through.
      if (p && p.kind !== 'dir') return false;
    }
  }
  return false;
}

/** Bytes of a writable layer at paths the image already had: what overlayfs copy_up cost. */
export function computeCopiedUp(writable: LayerIndex, imageLayers: LayerIndex[]): Bytes {
  const out = { disk: 0, apparent: 0 };
  if (imageLayers.length === 0) return out;
  for (const [path, e] of writable) {
    if (e.kind === 'whiteout') continue;
    if (existsIn(imageLayers, path)) {
      out.disk += e.disk;
      out.apparent += e.apparent;
    }
  }
  return out;
}
