// The pure core: scan facts in, every figure of the report out. Each byte is counted once: a
// unit's bytes (a layer's directory, a content blob) belong to the unit, and images only point
// at units.
import { ZERO, type Bytes, type LayerIndex } from '../../collectors/lib/facts.js';
import { listedImages } from './graph.js';
import { dockerSize, holdersOf, imageReports, layerKeysOf, push, wasteJobs as jobsOf, type WasteJob } from './images.js';
import { computeCopiedUp } from './layer-analysis.js';
import { K8S_POD_NAME, K8S_POD_NAMESPACE } from '../../collectors/lib/labels.js';
import { kubernetesReport } from './kubernetes.js';
import { logAudit, logLimitOf } from './log-audit.js';
import { reclaimFactsOf } from './reclaim-facts.js';
import { reclaimReports } from './reclaim.js';
import { ownerReports } from './owners.js';
import type { ContainerReport, ContentReport, ImageReport, LayerReport, OrphanReport, Report, VolumeReport } from './report.js';
import type { ScanFacts } from './scan-facts.js';
import { diskTotals } from './totals.js';

export type { WasteJob } from './images.js';

const byId = <T extends { id: string }>(a: T, b: T) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** For every listed image, what its waste figure depends on. */
export function wasteJobs(f: Pick<ScanFacts, 'images' | 'layers'> & { indexes: ReadonlyMap<string, LayerIndex> }): Map<string, WasteJob> {
  return jobsOf(listedImages(f.images), f.layers, f.indexes);
}

/** What a container's copy-up depends on: its writable layer's index and its image's, bottom first. */
export interface CopyUpJob {
  writable: LayerIndex;
  imageLayers: LayerIndex[];
}

/** For every container whose writable layer was indexed, what its copy-up figure depends on. */
export function copyUpJobs(f: Pick<ScanFacts, 'images' | 'layers' | 'mounts' | 'containers' | 'indexes'>): Map<string, CopyUpJob> {
  const layerByKey = new Map(f.layers.map((l) => [l.chainId, l]));
  const imageById = new Map(f.images.map((i) => [i.id, i]));
  const mountByContainer = new Map(f.mounts.map((m) => [m.containerId, m]));
  const indexOfDir = (id: string | null | undefined): LayerIndex | undefined => (id ? f.indexes.get(id) : undefined);
  const jobs = new Map<string, CopyUpJob>();
  for (const c of f.containers) {
    const writable = indexOfDir(mountByContainer.get(c.id)?.mountId);
    if (!writable) continue;
    const img = imageById.get(c.imageId);
    const imageLayers = (img ? layerKeysOf(img) : [])
      .map((k) => indexOfDir(layerByKey.get(k)?.cacheId))
      .filter((i): i is LayerIndex => i !== undefined);
    jobs.set(c.id, { writable, imageLayers });
  }
  return jobs;
}

export function buildReport(f: ScanFacts): Report {
  const layerByKey = new Map(f.layers.map((l) => [l.chainId, l]));
  const bytesOfDir = (id: string | null | undefined): Bytes => (id ? f.dirs.get(id)?.bytes : undefined) ?? ZERO;

  const listed = listedImages(f.images).sort(byId);
  const imageById = new Map(f.images.map((i) => [i.id, i]));
  const keysOfImage = (id: string) => {
    const img = imageById.get(id);
    return img ? layerKeysOf(img) : [];
  };
  const mountByContainer = new Map(f.mounts.map((m) => [m.containerId, m]));
  // How many listed images hold each unit decides shared against unique.
  const holders = holdersOf(listed);

  const containersOfImage = new Map<string, string[]>();
  for (const c of f.containers) push(containersOfImage, c.imageId, c.id);
  const figures = imageReports(f, listed, holders, containersOfImage);

  const containersOfLayer = new Map<string, string[]>();
  for (const c of f.containers) for (const k of keysOfImage(c.imageId)) push(containersOfLayer, k, c.id);
  const layers: LayerReport[] = [...f.layers]
    .sort((a, b) => (a.chainId < b.chainId ? -1 : 1))
    .map((l) => {
      const b = bytesOfDir(l.cacheId);
      // The contract names a layer's directory by the store's own words.
      const where = l.snapshotId !== undefined ? { snapshotId: l.snapshotId, namespace: l.namespace } : { diffId: l.diffId, cacheId: l.cacheId };
      return {
        chainId: l.chainId,
        ...where,
        disk: b.disk,
        apparent: b.apparent,
        images: holders.layers.get(l.chainId) ?? [],
        containers: containersOfLayer.get(l.chainId) ?? [],
      };
    });

  const content: ContentReport[] = (f.blobs ?? [])
    .map((b) => {
      const bytes = bytesOfDir(b.digest);
      return { digest: b.digest, mediaType: b.mediaType, disk: bytes.disk, apparent: bytes.apparent, images: holders.blobs.get(b.digest) ?? [] };
    })
    .sort((a, b) => (a.digest < b.digest ? -1 : 1));

  const copyUps = copyUpJobs(f);
  const containers: ContainerReport[] = [...f.containers].sort(byId).map((c) => {
    const mount = mountByContainer.get(c.id);
    const api = f.api?.containers.get(c.id);
    const copyUp = copyUps.get(c.id);
    return {
      id: c.id,
      name: api?.name || c.name,
      imageId: c.imageId,
      state: api?.state ?? c.state,
      writable: bytesOfDir(mount?.mountId),
      init: bytesOfDir(mount?.initId),
      copiedUp: copyUp ? (f.copiedUp?.get(c.id) ?? computeCopiedUp(copyUp.writable, copyUp.imageLayers)) : { ...ZERO },
      logs: c.logs.disk,
      logsApparent: c.logs.apparent,
      ...(c.namespace ? { namespace: c.namespace } : {}),
      ...(c.kind ? { kind: c.kind } : {}),
      ...(c.labels[K8S_POD_NAMESPACE] && c.labels[K8S_POD_NAME] ? { pod: `${c.labels[K8S_POD_NAMESPACE]}/${c.labels[K8S_POD_NAME]}` } : {}),
      ...(c.log ? { logLimit: logLimitOf(c.log, f.daemonLog ?? null) } : {}),
    };
  });

  const usersOfVolume = new Map<string, string[]>();
  for (const c of f.containers) for (const v of c.volumes) push(usersOfVolume, v, c.id);
  const volumes: VolumeReport[] = f.volumes.map((v) => ({
    name: v.name,
    disk: v.bytes.disk,
    apparent: v.bytes.apparent,
    containers: usersOfVolume.get(v.name) ?? [],
    anonymous: v.anonymous ?? false,
  }));

  // Owners count units over the listed images and any other image a container runs; a layer and
  // a blob may share a digest (a bottom layer's chain id is its diff id), so their keys differ.
  const ownerImages = new Map(listed.map((i) => [i.id, i]));
  for (const c of f.containers) {
    const img = imageById.get(c.imageId);
    if (img) ownerImages.set(img.id, img);
  }
  const unitDisk = new Map<string, number>();
  const images4owners = [...ownerImages.values()].map((img) => {
    const units = [
      ...layerKeysOf(img).map((k) => {
        unitDisk.set(`layer:${k}`, bytesOfDir(layerByKey.get(k)?.cacheId).disk);
        return `layer:${k}`;
      }),
      ...(img.blobs ?? []).map((d) => {
        unitDisk.set(`blob:${d}`, bytesOfDir(d).disk);
        return `blob:${d}`;
      }),
    ];
    return { id: img.id, units };
  });
  const reportOf = new Map(containers.map((c) => [c.id, c]));
  const owners = ownerReports({
    ownerLabels: f.ownerLabels ?? [],
    containers: f.containers.map((c) => {
      const r = reportOf.get(c.id)!;
      return { id: c.id, imageId: c.imageId, volumes: c.volumes, labels: c.labels, writable: r.writable.disk, init: r.init.disk, logs: r.logs };
    }),
    volumes: volumes.map((v) => ({ name: v.name, disk: v.disk })),
    images: images4owners,
    unitDisk,
  });

  const orphans: OrphanReport[] = [];
  const buildCache = { disk: f.buildkitStore.disk, apparent: f.buildkitStore.apparent, dirs: 0 };
  for (const d of f.dirs.values()) {
    if (d.role === 'orphan') orphans.push({ id: d.id, kind: d.kind ?? 'layer-dir', path: d.path, disk: d.bytes.disk, apparent: d.bytes.apparent });
    if (d.role === 'build-cache') {
      buildCache.disk += d.bytes.disk;
      buildCache.apparent += d.bytes.apparent;
      buildCache.dirs += 1;
    }
  }
  orphans.sort((a, b) => b.disk - a.disk || (a.id < b.id ? -1 : 1));

  // What each clean-up frees, and `docker rmi` of each image.
  const planned = reclaimReports(reclaimFactsOf(f, containers, orphans));
  const { rmi } = planned;
  // Without Docker (containerd alone) no docker command applies: only what a person can do.
  const reclaim = f.dockerAbsent ? planned.reclaim.filter((r) => r.command === null) : planned.reclaim;
  const images: ImageReport[] = figures.map((r) => ({ ...r, rmi: rmi.get(r.id) ?? { ...ZERO } }));

  // What adding up `docker images` and `docker ps -s` virtual sizes claims: every image in full
  // (Docker's own Size), and every container's writable layer plus its whole image again.
  const sizeOf = new Map(images.map((r) => [r.id, dockerSize(imageById.get(r.id)!, r)]));
  const sizeOfImage = (id: string) =>
    sizeOf.get(id) ?? keysOfImage(id).reduce((s, k) => s + bytesOfDir(layerByKey.get(k)?.cacheId).apparent, 0);
  const naiveVirtual =
    images.reduce((s, i) => s + sizeOf.get(i.id)!, 0) + containers.reduce((s, c) => s + c.writable.apparent + sizeOfImage(c.imageId), 0);

  const kubernetes = kubernetesReport(layers, containers, images, content);
  const totals = (basis: keyof Bytes) => diskTotals(f, basis, buildCache[basis], orphans.reduce((s, o) => s + o[basis], 0));
  return {
    dockerRoot: f.dockerRoot,
    apiUp: f.api !== null,
    ...(f.dockerAbsent ? { dockerAbsent: true as const } : {}),
    driver: { ...f.driver },
    stores: f.stores ?? [],
    filesystem: f.filesystem,
    ...(f.host ? { host: f.host } : {}),
    images,
    layers,
    content,
    containers,
    volumes,
    owners,
    logAudit: logAudit(containers, f.previousLogs, f.scan.startedAt),
    ...(kubernetes ? { kubernetes } : {}),
    orphans,
    buildCache,
    reclaim,
    totals: { disk: totals('disk'), apparent: totals('apparent'), naiveVirtual },
    errors: f.errors,
    scan: f.scan,
  };
}
