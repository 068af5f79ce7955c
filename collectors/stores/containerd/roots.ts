// Where containerd keeps Docker's images: the root given, or the one dockerd runs itself
// (`<docker-root>/containerd/daemon`), or the system containerd's (`/var/lib/containerd`, which
// dockerd uses when started with `--containerd` and Kubernetes nodes always use).
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { rootfsPath } from '../../host/paths.js';
import type { StoreContext } from '../store.js';

export const META_DB = join('io.containerd.metadata.v1.bolt', 'meta.db');
export const SNAPSHOTTER = join('io.containerd.snapshotter.v1.overlayfs');
export const CONTENT = join('io.containerd.content.v1.content');

const exists = (p: string) => fsp.stat(p).then(() => true, () => false);

/** The candidate roots in order, the one given first and alone. */
export function candidateRoots(ctx: Pick<StoreContext, 'dockerRoot' | 'host' | 'containerd'>): string[] {
  if (ctx.containerd.root) return [ctx.containerd.root];
  return [join(ctx.dockerRoot, 'containerd', 'daemon'), rootfsPath(ctx.host, 'var', 'lib', 'containerd')];
}

/** The candidates that hold a meta.db, in order. */
export async function containerdRoots(ctx: Pick<StoreContext, 'dockerRoot' | 'host' | 'containerd'>): Promise<string[]> {
  const roots: string[] = [];
  for (const root of candidateRoots(ctx)) if (await exists(join(root, META_DB))) roots.push(root);
  return roots;
}
