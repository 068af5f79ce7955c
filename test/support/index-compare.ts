// Two walks' indexes compared path by path. Of the paths of one hardlinked inode the one met first
// carries the bytes, and walkers meet them in different orders: those compare by inode instead.
import type { PathIndex } from '../../collectors/lib/path-index.js';

/** An index as a map from path hash to what is there, and each hardlinked inode's bytes over its paths. */
export function byPath(ix: PathIndex): { paths: Map<number, string>; inodes: Map<number, string> } {
  const paths = new Map<number, string>();
  const inodes = new Map<number, { disk: number; apparent: number; paths: number }>();
  const linked = new Map<number, number>();
  for (let j = 0; j < ix.linked.length; j++) linked.set(ix.linked[j]!, ix.linkedInos[j]!);
  for (let i = 0; i < ix.count; i++) {
    const parent = ix.parents[i]! < 0 ? 'root' : String(ix.hashes[ix.parents[i]!]);
    const ino = linked.get(i);
    paths.set(ix.hashes[i]!, `${ix.kinds[i]} under ${parent}` + (ino === undefined ? ` ${ix.disk[i]}/${ix.apparent[i]}` : ` inode ${ino}`));
    if (ino !== undefined) {
      const g = inodes.get(ino) ?? { disk: 0, apparent: 0, paths: 0 };
      g.disk += ix.disk[i]!;
      g.apparent += ix.apparent[i]!;
      g.paths += 1;
      inodes.set(ino, g);
    }
  }
  return { paths, inodes: new Map([...inodes].map(([k, g]) => [k, JSON.stringify(g)])) };
}
