// The rest of the roots, each byte once: everything the store walks, volumes and logs do not
// cover. BuildKit's own store is build cache; the remainder (metadata, the driver's bookkeeping,
// networks) is "other", so that the total is the whole docker root plus every store root outside
// it. Each store's share of "other" (its metadata) is walked apart, so a store's own bytes can be
// told: what removing it would free.
import { isAbsolute, join, relative } from 'node:path';
import type { Problem, TreeSize } from '../../collectors/lib/facts.js';
import { walkTree } from '../../collectors/walk/walk-tree.js';

const under = (path: string, root: string) => {
  const r = relative(root, path);
  return r === '' || !(r === '..' || r.startsWith('../') || isAbsolute(r));
};

/**
 * Which trees each store walks for its rest: its roots, less any under a root already taken (by
 * it or by a store before it), so that no tree is walked twice.
 */
export function storeTrees(storeRoots: string[][]): string[][] {
  const taken: string[] = [];
  return storeRoots.map((roots) => {
    const mine: string[] = [];
    for (const r of [...new Set(roots)].sort((a, b) => a.length - b.length)) {
      if (taken.some((t) => under(r, t))) continue;
      taken.push(r);
      mine.push(r);
    }
    return mine;
  });
}

const EMPTY = (): TreeSize => ({ disk: 0, apparent: 0, entries: 0 });

function add(into: TreeSize, t: TreeSize): void {
  into.disk += t.disk;
  into.apparent += t.apparent;
  into.entries += t.entries;
}

export interface RestOfRoots {
  buildkitStore: TreeSize;
  /** Everything no other figure holds, the stores' shares included. */
  other: TreeSize;
  /** Each store's share of `other`, in the order of the stores given. */
  stores: TreeSize[];
}

/** `root` is the docker root; null on a host without one (containerd alone, a Kubernetes node). */
export async function walkRestOfRoots(root: string | null, storeRoots: string[][], skip: string[], problems: Problem[]): Promise<RestOfRoots> {
  const trees = storeTrees(storeRoots);
  const none = Promise.resolve({ size: EMPTY() });
  const buildkit = root === null ? null : join(root, 'buildkit');
  // A root without BuildKit's directory is normal (it appears with the first BuildKit build).
  const storeProblems: Problem[] = [];
  const store = buildkit === null ? none : walkTree(buildkit, { problems: storeProblems, smallFirst: true });
  const rest = root === null || buildkit === null ? none : walkTree(root, { problems, skip: [...skip, buildkit, ...trees.flat().filter((t) => under(t, root))] });
  const perStore = trees.map(async (mine) => {
    const sum = EMPTY();
    for (const t of await Promise.all(mine.map((r) => walkTree(r, { problems, skip })))) add(sum, t.size);
    return sum;
  });
  const s = await store;
  if (s.size.entries > 0) problems.push(...storeProblems);
  const stores = await Promise.all(perStore);
  const other = { ...(await rest).size };
  for (const t of stores) add(other, t);
  return { buildkitStore: s.size, other, stores };
}
