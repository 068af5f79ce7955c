// The reclaim planner's view of a scan: each object Docker removes, the units it holds, and the
// bytes of every unit and record, from the scan's facts. Pure.
import { addBytes, ZERO, type Bytes } from '../../collectors/lib/facts.js';
import { layerKeysOf } from './images.js';
import type { ReclaimFacts } from './reclaim.js';
import type { ContainerReport, OrphanReport } from './report.js';
import type { ScanFacts } from './scan-facts.js';

export function reclaimFactsOf(f: ScanFacts, containers: ContainerReport[], orphans: OrphanReport[]): ReclaimFacts {
  const bytes = new Map<string, Bytes>();
  const add = (key: string, b: Bytes | undefined) => b && bytes.set(key, addBytes(bytes.get(key) ?? ZERO, b));
  const dir = (id: string | null | undefined) => (id ? f.dirs.get(id)?.bytes : undefined);
  for (const [key, b] of f.records ?? []) add(key, b);

  const images = f.images.map((img) => {
    const layers = layerKeysOf(img).map((k) => `layer:${k}`);
    const blobs = (img.blobs ?? []).map((d) => `blob:${d}`);
    return { id: img.id, tags: img.tags, digests: img.digests, parent: img.parent, units: [...layers, ...blobs] };
  });
  for (const l of f.layers) add(`layer:${l.chainId}`, dir(l.cacheId));
  for (const b of f.blobs ?? []) add(`blob:${b.digest}`, dir(b.digest));

  const mountOf = new Map(f.mounts.map((m) => [m.containerId, m]));
  for (const c of f.containers) {
    const m = mountOf.get(c.id);
    add(`container:${c.id}`, dir(m?.mountId));
    add(`container:${c.id}`, dir(m?.initId));
  }
  for (const v of f.volumes) add(`volume:${v.name}`, v.bytes);
  const buildCache = [...f.dirs.values()].filter((d) => d.role === 'build-cache');
  for (const d of buildCache) add(`cache:${d.id}`, d.bytes);

  const heldLayers = new Set(f.images.flatMap(layerKeysOf));
  const stateOf = new Map(containers.map((c) => [c.id, c.state]));
  return {
    store: f.driver.store,
    apiVersion: f.api?.apiVersion ?? null,
    images,
    containers: f.containers.map((c) => ({ id: c.id, imageId: c.imageId, state: stateOf.get(c.id) ?? c.state, volumes: c.volumes, units: [] })),
    volumes: f.volumes.map((v) => ({ name: v.name, anonymous: v.anonymous ?? false })),
    // Without -a BuildKit keeps the cache whose layer an image holds.
    buildCache: buildCache.map((d) => ({ id: d.id, prunable: !heldLayers.has(f.buildCacheChains?.get(d.id) ?? '') })),
    bytes,
    unboundedLogs: [],
    orphans: orphans.reduce((s, o) => addBytes(s, { disk: o.disk, apparent: o.apparent }), ZERO),
    inactiveStores: { disk: (f.stores ?? []).filter((s) => !s.active).reduce((s, st) => s + st.disk, 0), apparent: 0 },
  };
}
