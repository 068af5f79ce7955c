// What each directory under the storage driver's base is, from the layer records and BuildKit's:
// anything nothing refers to is an orphan.
import type { DriverDirRole, LayerFact, MountFact } from '../../lib/facts.js';

export function classifyDirs(
  dirIds: Iterable<string>,
  layers: LayerFact[],
  mounts: MountFact[],
  buildCacheIds: Set<string>,
): Map<string, DriverDirRole> {
  const known = new Map<string, DriverDirRole>();
  for (const l of layers) if (l.cacheId) known.set(l.cacheId, 'image-layer');
  for (const m of mounts) {
    known.set(m.mountId, 'container-layer');
    if (m.initId) known.set(m.initId, 'container-init');
  }
  const roles = new Map<string, DriverDirRole>();
  for (const id of dirIds) roles.set(id, known.get(id) ?? (buildCacheIds.has(id) ? 'build-cache' : 'orphan'));
  return roles;
}
