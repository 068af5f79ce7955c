// Waste and copy-up figures worked out ahead of the pure model, a slice at a time
// (lib/serving-first.ts), so that buildReport (synchronous) finds them all and a scrape never
// waits behind a million paths.
import type { Bytes, LayerIndex } from '../../collectors/lib/facts.js';
import { runInSlices } from '../../collectors/lib/serving-first.js';
import type { Inventory } from '../../collectors/stores/store.js';
import { copyUpJobs, wasteJobs } from '../model/build-report.js';
import { copiedUpSteps, wasteSteps } from '../model/layer-analysis.js';
import type { ScanFacts } from '../model/scan-facts.js';

/**
 * Every listed image's waste by job key; `known` (the last scan's, or the persisted cache's)
 * spares unchanged images, unless one of the image's layers was walked anew (`fresh`): a layer
 * made again under the same directory id.
 */
export async function workOutWaste(
  inventory: Pick<Inventory, 'images' | 'layers'>,
  indexes: ReadonlyMap<string, LayerIndex>,
  known: ReadonlyMap<string, Bytes> = new Map(),
  fresh: ReadonlySet<LayerIndex> = new Set(),
): Promise<Map<string, Bytes>> {
  const out = new Map<string, Bytes>();
  for (const job of wasteJobs({ images: inventory.images, layers: inventory.layers, indexes }).values()) {
    if (!job.indexes) continue;
    const kept = job.indexes.some((i) => fresh.has(i)) ? undefined : known.get(job.key);
    out.set(job.key, kept ?? (await runInSlices(wasteSteps(job.indexes))));
  }
  return out;
}

/** Every container's copy-up by container id (a writable layer changes: never kept). */
export async function workOutCopiedUp(f: Pick<ScanFacts, 'images' | 'layers' | 'mounts' | 'containers' | 'indexes'>): Promise<Map<string, Bytes>> {
  const out = new Map<string, Bytes>();
  for (const [id, job] of copyUpJobs(f)) out.set(id, await runInSlices(copiedUpSteps(job.writable, job.imageLayers)));
  return out;
}
