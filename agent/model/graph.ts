// The layer-sharing graph: chain IDs and listed images. Pure functions of the facts.
import { createHash } from 'node:crypto';
import type { ImageFact } from '../../collectors/lib/facts.js';

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
