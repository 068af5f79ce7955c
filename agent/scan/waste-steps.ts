// Waste figures worked out ahead of the pure model, pausing between steps, so that buildReport
// (synchronous) finds them all and a scrape never waits behind a million paths.
import type { Bytes, LayerIndex } from '../../collectors/lib/facts.js';
import type { Inventory } from '../../collectors/stores/store.js';
import { wasteJobs } from '../model/build-report.js';
import { computeWasteYielding } from '../model/layer-analysis.js';

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
    out.set(job.key, kept ?? (await computeWasteYielding(job.indexes)));
  }
  return out;
}
