// The rest of the docker root, each byte once: everything the store walks, volumes and logs do
// not cover. BuildKit's own store is build cache; the remainder (metadata, the driver's
// bookkeeping, networks) is "other", so that the total is the whole root, and so is the rest of
// every store root outside it.
import { isAbsolute, join, relative } from 'node:path';
import type { Problem, TreeSize } from '../../collectors/lib/facts.js';
import { walkTree } from '../../collectors/walk/walk-tree.js';

const under = (path: string, root: string) => {
  const r = relative(root, path);
  return r === '' || !(r === '..' || r.startsWith('../') || isAbsolute(r));
};

/** The trees to walk: the docker root, and each store root outside it and outside each other. */
export function treesToWalk(root: string, storeRoots: string[]): string[] {
  const trees = [root];
  for (const r of [...new Set(storeRoots)].sort((a, b) => a.length - b.length)) if (!trees.some((t) => under(r, t))) trees.push(r);
  return trees;
}

export async function walkRestOfRoot(
  root: string,
  storeRoots: string[],
  skip: string[],
  problems: Problem[],
): Promise<{ buildkitStore: TreeSize; other: TreeSize }> {
  const buildkit = join(root, 'buildkit');
  // A root without BuildKit's directory is normal (it appears with the first BuildKit build).
  const storeProblems: Problem[] = [];
  const store = walkTree(buildkit, { problems: storeProblems });
  const rests = treesToWalk(root, storeRoots).map((r) => walkTree(r, { problems, skip: [...skip, buildkit] }));
  const s = await store;
  const other = { disk: 0, apparent: 0, entries: 0 };
  for (const r of await Promise.all(rests)) {
    other.disk += r.size.disk;
    other.apparent += r.size.apparent;
    other.entries += r.size.entries;
  }
  if (s.size.entries > 0) problems.push(...storeProblems);
  return { buildkitStore: s.size, other };
}
