// The layer-sharing graph: chain IDs and listed images. Pure functions of the facts.
import type { ImageFact } from '../../collectors/lib/facts.js';

export { chainIds } from '../../collectors/lib/oci.js';

/**
 * The images `docker images` lists: tagged or digested ones, plus untagged ones that are no other
 * image's parent. Build intermediates (untagged, with children) are not listed.
 */
export function listedImages(images: ImageFact[]): ImageFact[] {
  const parents = new Set(images.map((i) => i.parent).filter((p): p is string => p !== null));
  return images.filter((i) => i.tags.length > 0 || i.digests.length > 0 || !parents.has(i.id));
}
