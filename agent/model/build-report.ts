// The pure core: scan facts in, every figure of the report out. Each byte is counted once: a
// layer's bytes belong to the layer, and images only point at layers.
import { ZERO, type Bytes, type LayerIndex } from '../../collectors/lib/facts.js';
import { chainIds, listedImages } from './graph.js';
import { computeCopiedUp, computeWaste } from './layer-analysis.js';
import type {
  ContainerReport, DiskTotals, ImageReport, LayerReport, OrphanReport, Report, VolumeReport,
} from './report.js';
import type { ScanFacts } from './scan-facts.js';

const byId = <T extends { id: string }>(a: T, b: T) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export interface WasteJob {
  /** The image and its layer directories: waste depends on nothing else. */
  key: string;
  /** The image's layer indexes, bottom first; null when a layer was not indexed (no figure). */
  indexes: LayerIndex[] | null;
}

/** For every listed image, what its waste figure depends on. */
export function wasteJobs(f: Pick<ScanFacts, 'images' | 'layers'> & { indexes: ReadonlyMap<string, LayerIndex> }): Map<string, WasteJob> {
  const layerByChain = new Map(f.layers.map((l) => [l.chainId, l]));
  const jobs = new Map<string, WasteJob>();
  for (const img of listedImages(f.images)) {
    const dirs = chainIds(img.diffIds).map((c) => layerByChain.get(c)?.cacheId ?? null);
    const indexes = dirs.map((d) => (d ? f.indexes.get(d) : undefined));
    jobs.set(img.id, {
      key: `${img.id}:${dirs.join(',')}`,
      indexes: indexes.every((i) => i !== undefined) ? (indexes as LayerIndex[]) : null,
    });
  }
  return jobs;
}

export function buildReport(f: ScanFacts): Report {
  const layerByChain = new Map(f.layers.map((l) => [l.chainId, l]));
  const bytesOfDir = (id: string | null | undefined): Bytes => (id ? f.dirs.get(id)?.bytes : undefined) ?? ZERO;
  const indexOfDir = (id: string | null | undefined): LayerIndex | undefined => (id ? f.indexes.get(id) : undefined);

  // An image's waste depends only on its layers, which never change: figures worked out before
  // (by the scan without holding the event loop, or by an earlier scan) spare reading every path.
  const jobs = wasteJobs(f);
  const wasteOf = (imageId: string): Bytes => {
    const job = jobs.get(imageId);
    if (!job?.indexes) return { ...ZERO };
    return f.waste?.get(job.key) ?? computeWaste(job.indexes);
  };

  const listed = listedImages(f.images).sort(byId);
  const chainsOf = new Map(f.images.map((i) => [i.id, chainIds(i.diffIds)]));
  const mountByContainer = new Map(f.mounts.map((m) => [m.containerId, m]));

  // How many listed images hold each layer decides shared against unique.
  const holders = new Map<string, string[]>();
  for (const img of listed) {
    for (const c of chainsOf.get(img.id) ?? []) holders.set(c, [...(holders.get(c) ?? []), img.id]);
  }

  const containersOfImage = new Map<string, string[]>();
  for (const c of f.containers) containersOfImage.set(c.imageId, [...(containersOfImage.get(c.imageId) ?? []), c.id]);

  const images: ImageReport[] = listed.map((img) => {
    const chain = chainsOf.get(img.id) ?? [];
    const disk = { total: 0, shared: 0, unique: 0 };
    const apparent = { total: 0, shared: 0, unique: 0 };
    for (const c of chain) {
      const layer = layerByChain.get(c);
      const b = bytesOfDir(layer?.cacheId);
      disk.total += b.disk;
      apparent.total += b.apparent;
      if ((holders.get(c)?.length ?? 0) > 1) {
        disk.shared += b.disk;
        apparent.shared += b.apparent;
      }
    }
    disk.unique = disk.total - disk.shared;
    apparent.unique = apparent.total - apparent.shared;
    return {
      id: img.id,
      tags: img.tags,
      layers: chain,
      disk,
      apparent,
      wasted: wasteOf(img.id),
      containers: containersOfImage.get(img.id)?.length ?? 0,
    };
  });

  const containersOfChain = new Map<string, string[]>();
  for (const c of f.containers) {
    for (const chain of chainsOf.get(c.imageId) ?? []) {
      containersOfChain.set(chain, [...(containersOfChain.get(chain) ?? []), c.id]);
    }
  }
  const layers: LayerReport[] = [...f.layers]
    .sort((a, b) => (a.chainId < b.chainId ? -1 : 1))
    .map((l) => {
      const b = bytesOfDir(l.cacheId);
      return {
        chainId: l.chainId,
        diffId: l.diffId,
        cacheId: l.cacheId,
        disk: b.disk,
        apparent: b.apparent,
        images: holders.get(l.chainId) ?? [],
        containers: containersOfChain.get(l.chainId) ?? [],
      };
    });

  const containers: ContainerReport[] = [...f.containers].sort(byId).map((c) => {
    const mount = mountByContainer.get(c.id);
    const api = f.api?.containers.get(c.id);
    const imageLayers = (chainsOf.get(c.imageId) ?? [])
      .map((chain) => indexOfDir(layerByChain.get(chain)?.cacheId))
      .filter((i): i is LayerIndex => i !== undefined);
    const writableIndex = indexOfDir(mount?.mountId);
    return {
      id: c.id,
      name: api?.name || c.name,
      imageId: c.imageId,
      state: api?.state ?? c.state,
      writable: bytesOfDir(mount?.mountId),
      init: bytesOfDir(mount?.initId),
      copiedUp: writableIndex ? computeCopiedUp(writableIndex, imageLayers) : { ...ZERO },
      logs: c.logs.disk,
      logsApparent: c.logs.apparent,
    };
  });

  const usersOfVolume = new Map<string, string[]>();
  for (const c of f.containers) for (const v of c.volumes) usersOfVolume.set(v, [...(usersOfVolume.get(v) ?? []), c.id]);
  const volumes: VolumeReport[] = f.volumes.map((v) => ({
    name: v.name,
    disk: v.bytes.disk,
    apparent: v.bytes.apparent,
    containers: usersOfVolume.get(v.name) ?? [],
  }));

  const orphans: OrphanReport[] = [];
  const buildCache = { disk: f.buildkitStore.disk, apparent: f.buildkitStore.apparent, dirs: 0 };
  for (const d of f.dirs.values()) {
    if (d.role === 'orphan') orphans.push({ id: d.id, path: d.path, disk: d.bytes.disk, apparent: d.bytes.apparent });
    if (d.role === 'build-cache') {
      buildCache.disk += d.bytes.disk;
      buildCache.apparent += d.bytes.apparent;
      buildCache.dirs += 1;
    }
  }
  orphans.sort((a, b) => b.disk - a.disk || (a.id < b.id ? -1 : 1));

  const sumOf = (basis: keyof Bytes): DiskTotals => {
    const t: DiskTotals = {
      imageLayers: f.layers.reduce((s, l) => s + bytesOfDir(l.cacheId)[basis], 0),
      containerLayers: f.mounts.reduce((s, m) => s + bytesOfDir(m.mountId)[basis] + bytesOfDir(m.initId)[basis], 0),
      volumes: f.volumes.reduce((s, v) => s + v.bytes[basis], 0),
      logs: f.containers.reduce((s, c) => s + c.logs[basis], 0),
      buildCache: buildCache[basis],
      orphans: orphans.reduce((s, o) => s + o[basis], 0),
      other: f.other[basis],
      total: 0,
    };
    t.total = t.imageLayers + t.containerLayers + t.volumes + t.logs + t.buildCache + t.orphans + t.other;
    return t;
  };

  // What adding up `docker images` and `docker ps -s` virtual sizes claims: every image in full,
  // and every container's writable layer plus its whole image again.
  const imageApparent = new Map(images.map((i) => [i.id, i.apparent.total]));
  const apparentOfImage = (id: string) =>
    imageApparent.get(id) ??
    (chainsOf.get(id) ?? []).reduce((s, c) => s + bytesOfDir(layerByChain.get(c)?.cacheId).apparent, 0);
  const naiveVirtual =
    images.reduce((s, i) => s + i.apparent.total, 0) +
    containers.reduce((s, c) => s + c.writable.apparent + apparentOfImage(c.imageId), 0);

  return {
    dockerRoot: f.dockerRoot,
    apiUp: f.api !== null,
    driver: { ...f.driver },
    filesystem: f.filesystem,
    images,
    layers,
    containers,
    volumes,
    orphans,
    buildCache,
    totals: { disk: sumOf('disk'), apparent: sumOf('apparent'), naiveVirtual },
    errors: f.errors,
    scan: f.scan,
  };
}
