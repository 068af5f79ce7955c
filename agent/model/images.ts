// Images and the units they hold: layers (directories, by key) and content blobs (by digest).
// A unit two or more listed images hold is shared; each unit's bytes are counted once, in the
// unit itself, and images only point at units.
import type { Bytes, ImageFact, LayerFact, LayerIndex } from '../../collectors/lib/facts.js';
import { ZERO } from '../../collectors/lib/facts.js';
import { chainIds } from './graph.js';
import { computeWaste } from './layer-analysis.js';
import type { ImageReport } from './report.js';
import type { ScanFacts } from './scan-facts.js';

/** An image's layer keys, bottom first. */
export const layerKeysOf = (img: ImageFact): string[] => img.layerKeys ?? chainIds(img.diffIds);

export interface WasteJob {
  /** The image and its layer directories: waste depends on nothing else. */
  key: string;
  /** The image's layer indexes, bottom first; null when a layer was not indexed (no figure). */
  indexes: LayerIndex[] | null;
}

/** For every given image, what its waste figure depends on. */
export function wasteJobs(images: ImageFact[], layers: LayerFact[], indexes: ReadonlyMap<string, LayerIndex>): Map<string, WasteJob> {
  const layerByKey = new Map(layers.map((l) => [l.chainId, l]));
  const jobs = new Map<string, WasteJob>();
  for (const img of images) {
    const dirs = layerKeysOf(img).map((k) => layerByKey.get(k)?.cacheId ?? null);
    const found = dirs.map((d) => (d ? indexes.get(d) : undefined));
    jobs.set(img.id, {
      key: `${img.id}:${dirs.join(',')}`,
      indexes: found.every((i) => i !== undefined) ? (found as LayerIndex[]) : null,
    });
  }
  return jobs;
}

/** Who holds what: listed images by layer key and by blob digest. */
export interface Holders {
  layers: Map<string, string[]>;
  blobs: Map<string, string[]>;
}

/** Appends `v` to the list at `k`. */
export function push(m: Map<string, string[]>, k: string, v: string): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

export function holdersOf(listed: ImageFact[]): Holders {
  const h: Holders = { layers: new Map(), blobs: new Map() };
  for (const img of listed) {
    for (const k of layerKeysOf(img)) push(h.layers, k, img.id);
    for (const d of img.blobs ?? []) push(h.blobs, d, img.id);
  }
  return h;
}

/** The image figures but what removing it frees (reclaim.ts adds `rmi`). */
export type ImageFigures = Omit<ImageReport, 'rmi'>;

export function imageReports(f: ScanFacts, listed: ImageFact[], holders: Holders, containersOfImage: Map<string, string[]>): ImageFigures[] {
  const layerByKey = new Map(f.layers.map((l) => [l.chainId, l]));
  const bytesOfDir = (id: string | null | undefined): Bytes => (id ? f.dirs.get(id)?.bytes : undefined) ?? ZERO;
  // An image's waste depends only on its layers, which never change: figures worked out before
  // (by the scan without holding the event loop, or by an earlier scan) spare reading every path.
  const jobs = wasteJobs(listed, f.layers, f.indexes);
  const wasteOf = (imageId: string): Bytes => {
    const job = jobs.get(imageId);
    if (!job?.indexes) return { ...ZERO };
    return f.waste?.get(job.key) ?? computeWaste(job.indexes);
  };
  return listed.map((img) => {
    const keys = layerKeysOf(img);
    const disk = { total: 0, shared: 0, unique: 0 };
    const apparent = { total: 0, shared: 0, unique: 0 };
    const content = { disk: 0, apparent: 0 };
    const add = (b: Bytes, shared: boolean) => {
      disk.total += b.disk;
      apparent.total += b.apparent;
      if (shared) {
        disk.shared += b.disk;
        apparent.shared += b.apparent;
      }
    };
    for (const k of keys) add(bytesOfDir(layerByKey.get(k)?.cacheId), (holders.layers.get(k)?.length ?? 0) > 1);
    for (const d of img.blobs ?? []) {
      const b = bytesOfDir(d);
      add(b, (holders.blobs.get(d)?.length ?? 0) > 1);
      content.disk += b.disk;
      content.apparent += b.apparent;
    }
    disk.unique = disk.total - disk.shared;
    apparent.unique = apparent.total - apparent.shared;
    return {
      id: img.id,
      tags: img.tags,
      layers: keys,
      disk,
      apparent,
      content,
      wasted: wasteOf(img.id),
      containers: containersOfImage.get(img.id)?.length ?? 0,
      ...(img.namespace ? { namespace: img.namespace } : {}),
    };
  });
}

/**
 * Docker's own `Size` of an image: on graphdriver the layers' apparent bytes; on the containerd
 * store the blobs' apparent sizes plus the snapshots' disk usage.
 */
export function dockerSize(img: ImageFact, r: Pick<ImageFigures, 'disk' | 'apparent' | 'content'>): number {
  return img.sizeBasis === 'disk' ? r.content.apparent + (r.disk.total - r.content.disk) : r.apparent.total;
}
