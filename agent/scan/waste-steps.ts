// Waste figures worked out ahead of the pure model, pausing between steps, so that buildReport
// (synchronous) finds them all and a scrape never waits behind a million paths.
import type { Bytes, LayerIndex } from '../../collectors/lib/facts.js';
import type { Inventory } from '../../collectors/stores/store.js';
import { wasteJobs } from '../model/build-report.js';
import { computeWasteYielding } from '../model/layer-analysis.js';

/** Every listed image's waste by job key; `known` (the last scan's) spares unchanged images. */
export async function workOutWaste(
  inventory: Pick<Inventory, 'images' | 'layers'>,
  indexes: ReadonlyMap<string, LayerIndex>,
  known: ReadonlyMap<string, Bytes> = new Map(),
): Promise<Map<string, Bytes>> {
  const out = new Map<string, Bytes>();
  for (const job of wasteJobs({ images: inventory.images, layers: inventory.layers, indexes }).values()) {
    if (!job.indexes) continue;
    out.set(job.key, known.get(job.key) ?? (await computeWasteYielding(job.indexes)));
  }
  return out;
}
