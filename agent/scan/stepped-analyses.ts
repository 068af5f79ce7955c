// Waste and copy-up figures worked out ahead of the pure model, a slice at a time
// (lib/serving-first.ts), so that buildReport (synchronous) finds them all and a scrape never
// waits behind a million paths.
import { createHash } from 'node:crypto';
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

/**
 * A container's copy-up figure with what it followed from, kept by the agent for its next scan:
 * the writable layer by a digest of its index (keeping the index itself would hold two of a
 * huge writable layer at once), the image layers by identity (the layer cache keeps them).
 */
export interface CopyUpMemo {
  current: Map<string, { writable: string; imageLayers: LayerIndex[]; bytes: Bytes }>;
}

/** A digest of every column of an index: its paths, kinds and bytes. */
function digestOf(index: LayerIndex): string {
  const h = createHash('sha1');
  for (const col of [index.hashes, index.parents, index.kinds, index.disk, index.apparent, index.linked, index.linkedInos]) {
    h.update(new Uint8Array(col.buffer, col.byteOffset, col.byteLength));
  }
  return `${index.count}:${h.digest('hex')}`;
}

/**
 * Every container's copy-up by container id. A writable layer is walked every scan, but most
 * are as they were: with `memo`, a container whose writable layer walked to the same index, on
 * the very image layer indexes (committed layers, kept by the layer cache), keeps its figure.
 */
export async function workOutCopiedUp(f: Pick<ScanFacts, 'images' | 'layers' | 'mounts' | 'containers' | 'indexes'>, memo?: CopyUpMemo): Promise<Map<string, Bytes>> {
  const out = new Map<string, Bytes>();
  const next: CopyUpMemo['current'] = new Map();
  for (const [id, job] of copyUpJobs(f)) {
    const known = memo?.current.get(id);
    const writable = memo ? digestOf(job.writable) : '';
    const same = known && known.writable === writable && known.imageLayers.length === job.imageLayers.length && known.imageLayers.every((l, i) => l === job.imageLayers[i]);
    const bytes = same ? known.bytes : await runInSlices(copiedUpSteps(job.writable, job.imageLayers));
    out.set(id, bytes);
    next.set(id, { writable, imageLayers: job.imageLayers, bytes });
  }
  if (memo) memo.current = next;
  return out;
}
