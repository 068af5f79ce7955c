// The host's bytes by category, each byte in exactly one: what `layerdu_host_bytes` exports and
// what adds up to du of the roots.
import { ZERO, type Bytes } from '../../collectors/lib/facts.js';
import type { DiskTotals } from './report.js';
import type { ScanFacts } from './scan-facts.js';

export function diskTotals(f: ScanFacts, basis: keyof Bytes, buildCache: number, orphans: number): DiskTotals {
  const of = (id: string | null | undefined) => ((id ? f.dirs.get(id)?.bytes : undefined) ?? ZERO)[basis];
  let imageContent = 0;
  for (const d of f.dirs.values()) if (d.role === 'image-content') imageContent += d.bytes[basis];
  const t: DiskTotals = {
    imageLayers: f.layers.reduce((s, l) => s + of(l.cacheId), 0),
    imageContent,
    containerLayers: f.mounts.reduce((s, m) => s + of(m.mountId) + of(m.initId), 0),
    volumes: f.volumes.reduce((s, v) => s + v.bytes[basis], 0),
    logs: f.containers.reduce((s, c) => s + c.logs[basis], 0),
    buildCache,
    orphans,
    other: f.other[basis],
    total: 0,
  };
  t.total = t.imageLayers + t.imageContent + t.containerLayers + t.volumes + t.logs + t.buildCache + t.orphans + t.other;
  return t;
}
