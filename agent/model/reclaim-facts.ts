// The reclaim planner's view of a scan: each object Docker removes, the units it holds, and the
// bytes of every unit and record, from the scan's facts. Pure.
import { addBytes, ZERO, type Bytes } from '../../collectors/lib/facts.js';
import { layerKeysOf } from './images.js';
import { unbounded } from './log-audit.js';
import type { ReclaimFacts } from './reclaim.js';
import type { ContainerReport, OrphanReport } from './report.js';
import type { ScanFacts } from './scan-facts.js';

export function reclaimFactsOf(f: ScanFacts, containers: ContainerReport[], orphans: OrphanReport[]): ReclaimFacts {
  const bytes = new Map<string, Bytes>();
  const add = (key: string, b: Bytes | undefined) => b && bytes.set(key, addBytes(bytes.get(key) ?? ZERO, b));
  const dir = (id: string | null | undefined) => (id ? f.dirs.get(id)?.bytes : undefined);
  for (const [key, b] of f.records ?? []) add(key, b);

  // Each image's chain is what BuildKit compares its records with: layer blobs on the containerd
  // store, layer keys on the classic one.
  const images = f.images.map((img) => {
    const layers = layerKeysOf(img);
    const units = [...layers.map((k) => `layer:${k}`), ...(img.blobs ?? []).map((d) => `blob:${d}`)];
    return { id: img.id, tags: img.tags, digests: img.digests, parent: img.parent, units, chain: img.layerBlobs ?? layers };
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
  const cacheDirs = [...f.dirs.values()].filter((d) => d.role === 'build-cache');
  for (const d of cacheDirs) add(`cache:${d.id}`, d.bytes);

  // The classic store: BuildKit's records hold the layers they exported (and their parents) in
  // Docker's layer store; a snapshot directory whose content became a layer is that layer's.
  const parentOf = new Map(f.layers.map((l) => [l.chainId, l.parent]));
  const chainOf = (top: string | undefined): string[] => {
    const out: string[] = [];
    for (let k: string | null | undefined = top; k && parentOf.has(k) && !out.includes(k); k = parentOf.get(k)) out.unshift(k);
    return out;
  };
  const chains = f.buildCacheChains;
  // The containerd store: BuildKit's records are leases on snapshots and blobs; its build history
  // holds blobs no prune removes.
  const records = (f.holds ?? []).filter((h) => h.kind === 'build-record');
  const held = new Set((f.holds ?? []).flatMap((h) => h.units));
  const buildCache = [
    ...records.map((h) => ({ id: h.id, chain: h.chain, units: h.units })),
    // Cache directories no record names are removed by any builder prune.
    ...cacheDirs.filter((d) => !held.has(`cache:${d.id}`)).map((d) => ({ id: `dir:${d.id}`, chain: chainOf(chains?.dirs.get(d.id)), units: [`cache:${d.id}`] })),
    ...[...(chains?.held ?? [])].map((c) => ({ id: `chain:${c}`, chain: chainOf(c), units: chainOf(c).map((k) => `layer:${k}`) })),
  ];
  const heldByImages = new Set(images.flatMap((i) => i.units));
  const loose = (f.blobs ?? []).map((b) => `blob:${b.digest}`).filter((u) => !heldByImages.has(u) && !held.has(u));

  const stateOf = new Map(containers.map((c) => [c.id, c.state]));
  return {
    store: f.driver.store,
    apiVersion: f.api?.apiVersion ?? null,
    images,
    containers: f.containers.map((c) => ({ id: c.id, imageId: c.imageId, state: stateOf.get(c.id) ?? c.state, volumes: c.volumes, units: [] })),
    volumes: f.volumes.map((v) => ({ name: v.name, anonymous: v.anonymous ?? false })),
    buildCache,
    permanent: (f.holds ?? []).filter((h) => h.kind === 'build-history').flatMap((h) => h.units),
    loose,
    bytes,
    // Truncating a log frees its blocks: the log audit's containers, json-file without max-size.
    unboundedLogs: containers.filter((c) => unbounded(c.logLimit)).map((c) => ({ id: c.id, bytes: { disk: c.logs, apparent: c.logsApparent } })),
    orphans: orphans.reduce((s, o) => addBytes(s, { disk: o.disk, apparent: o.apparent }), ZERO),
    inactiveStores: { disk: (f.stores ?? []).filter((s) => !s.active).reduce((s, st) => s + st.disk, 0), apparent: 0 },
  };
}
