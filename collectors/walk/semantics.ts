// What a layer's entries mean, which decides how it is walked. In an overlay diff (overlay2's
// `diff/`, containerd's overlayfs snapshot `fs/`) a 0/0 character device is a whiteout and a
// directory marked opaque hides what lies below it, so image and writable layers are indexed
// path by path for waste and copy-up. A plain tree (vfs) is a full copy: indexing it would call
// every file waste.
import type { DriverDirRole } from '../lib/facts.js';

export type EntrySemantics = 'overlay' | 'plain';

export interface WalkFlags {
  /** Build the path index. */
  index: boolean;
  /** Tell opaque directories (an xattr read per directory). */
  opaque: boolean;
}

/** `hasParent`: whether an image layer has layers below it, the only ones its opaque dirs can hide. */
export function walkFlags(entries: EntrySemantics, role: DriverDirRole, hasParent: boolean): WalkFlags {
  const index = entries === 'overlay' && (role === 'image-layer' || role === 'container-layer');
  return { index, opaque: index && role === 'image-layer' && hasParent };
}
