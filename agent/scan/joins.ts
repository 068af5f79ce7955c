// What the scan's reads must agree on, and say when they do not. Containers and the stores'
// layer records, images and their layers, are read at different moments while the daemon works:
// a container created or removed between the two reads has no layer record, an image being
// unpacked names snapshots not yet made. Its figures would be a silent 0; each is named instead.
import type { ContainerFact, DirFact, Problem } from '../../collectors/lib/facts.js';
import type { Inventory } from '../../collectors/stores/store.js';

/**
 * `listing`: the writable layer directories the stores that list their driver's directory
 * expect (a store of a driver layerdu does not measure lists none).
 */
export function unjoined(
  containers: ContainerFact[],
  inventory: Pick<Inventory, 'mounts' | 'images' | 'layers'>,
  dirs: ReadonlyMap<string, DirFact>,
  listing: ReadonlySet<string> = new Set(),
): Problem[] {
  const problems: Problem[] = [];
  const mountOf = new Map(inventory.mounts.map((m) => [m.containerId, m]));
  for (const c of containers) {
    const m = mountOf.get(c.id);
    if (!m) problems.push({ path: c.id, message: `container ${c.name || c.id} has no layer record (made or removed during the scan?): its writable and init bytes count as 0` });
    // A writable layer holds at least its own directory: none is a container removed while walked.
    else if (dirs.get(m.mountId)?.bytes.disk === 0) problems.push({ path: c.id, message: `container ${c.name || c.id}: its writable layer was gone before its walk (removed during the scan?): counts as 0` });
    // Its record read, its directory gone before the driver's directory was listed: named by the
    // store as a missing directory, and here by the container, whose figure it is.
    else if (listing.has(m.mountId) && !dirs.has(m.mountId)) problems.push({ path: c.id, message: `container ${c.name || c.id}: its writable layer's directory was not there (removed during the scan?): counts as 0` });
  }
  const layers = new Set(inventory.layers.map((l) => l.chainId));
  for (const img of inventory.images) {
    // Images that list their layers (the containerd store); the classic store's are settled where read.
    const missing = (img.layerKeys ?? []).filter((k) => !layers.has(k));
    if (missing.length > 0) problems.push({ path: img.id, message: `image ${img.tags[0] ?? img.id} names ${missing.length} layer(s) not on disk yet (being unpacked or removed?): they count as 0` });
  }
  return problems;
}
