// The layer-sharing graph: chain IDs, listed images, and what each directory under the storage
// driver belongs to. Pure functions of the facts.
import { createHash } from 'node:crypto';
import type { DriverDirRole, ImageFact, LayerFact, MountFact } from '../../collectors/lib/facts.js';

/** ChainID(L0) = DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)), as the OCI spec says. */
export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const diff of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? diff : `sha256:${createHash('sha256').update(`${prev} ${diff}`).digest('hex')}`);
  }
  return out;
}

/**
 * The images `docker images` lists: tagged or digested ones, plus untagged ones that are no other
 * image's parent. Build intermediates (untagged, with children) are not listed.
 */
export function listedImages(images: ImageFact[]): ImageFact[] {
  const parents = new Set(images.map((i) => i.parent).filter((p): p is string => p !== null));
  return images.filter((i) => i.tags.length > 0 || i.digests.length > 0 || !parents.has(i.id));
}

/** What each directory under the driver's base is; anything nothing refers to is an orphan. */
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
