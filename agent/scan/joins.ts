// What the scan's reads must agree on, and say when they do not. Containers and the stores'
// layer records, images and their layers, are read at different moments while the daemon works:
// a container created or removed between the two reads has no layer record, an image being
// unpacked names snapshots not yet made. Its figures would be a silent 0; each is named instead.
import type { ContainerFact, Problem } from '../../collectors/lib/facts.js';
import type { Inventory } from '../../collectors/stores/store.js';

export function unjoined(containers: ContainerFact[], inventory: Pick<Inventory, 'mounts' | 'images' | 'layers'>): Problem[] {
  const problems: Problem[] = [];
  const mounted = new Set(inventory.mounts.map((m) => m.containerId));
  for (const c of containers) {
    if (!mounted.has(c.id)) problems.push({ path: c.id, message: `container ${c.name || c.id} has no layer record (made or removed during the scan?): its writable and init bytes count as 0` });
  }
  const layers = new Set(inventory.layers.map((l) => l.chainId));
  for (const img of inventory.images) {
    // Images that list their layers (the containerd store); the classic store's are settled where read.
    const missing = (img.layerKeys ?? []).filter((k) => !layers.has(k));
    if (missing.length > 0) problems.push({ path: img.id, message: `image ${img.tags[0] ?? img.id} names ${missing.length} layer(s) not on disk yet (being unpacked or removed?): they count as 0` });
  }
  return problems;
}
