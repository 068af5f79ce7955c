// The rest of the docker root, each byte once: everything the store walks, volumes and logs do
// not cover. BuildKit's own store is build cache; the remainder (metadata, the driver's
// bookkeeping, networks) is "other", so that the total is the whole root.
import { join } from 'node:path';
import type { Problem, TreeSize } from '../../collectors/lib/facts.js';
import { walkTree } from '../../collectors/walk/walk-tree.js';

export async function walkRestOfRoot(root: string, skip: string[], problems: Problem[]): Promise<{ buildkitStore: TreeSize; other: TreeSize }> {
  const buildkit = join(root, 'buildkit');
  // A root without BuildKit's directory is normal (it appears with the first BuildKit build).
  const storeProblems: Problem[] = [];
  const store = walkTree(buildkit, { problems: storeProblems });
  const rest = walkTree(root, { problems, skip: [...skip, buildkit] });
  const [s, r] = [await store, await rest];
  if (s.size.entries > 0) problems.push(...storeProblems);
  return { buildkitStore: s.size, other: r.size };
}
