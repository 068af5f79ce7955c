// The wasted-bytes oracle for a stack of overlayfs snapshot dirs (bottom first), read with lstat
// and the opaque xattr: a non-directory entry of a lower layer is hidden when an upper layer has
// an entry at its path, a non-directory (a file, or a whiteout: char device 0/0) at one of its
// ancestors, or an opaque directory at one of its ancestors. Each hidden inode counts once, on
// both bases (apparent: st_size; disk: st_blocks * 512). On the containerd store the classic
// builder's -init snapshots sit in the chain; this finds what, if anything, they hide too.
import { lstat, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import * as path from 'node:path';

type Xattr = typeof import('@napi-rs/xattr');
const xattr = createRequire(import.meta.url)('@napi-rs/xattr') as Xattr;

interface Entry {
  rel: string;
  dir: boolean;
  opaque: boolean;
  inode: string;
  size: number;
  disk: number;
}

async function isOpaque(p: string): Promise<boolean> {
  try {
    return (await xattr.getAttribute(p, 'trusted.overlay.opaque'))?.toString() === 'y';
  } catch {
    return false;
  }
}

/** Every entry of a layer, by path relative to its root. */
async function readLayer(root: string): Promise<Map<string, Entry>> {
  const out = new Map<string, Entry>();
  const walk = async (rel: string): Promise<void> => {
    for (const name of await readdir(path.join(root, rel))) {
      const r = rel === '' ? name : `${rel}/${name}`;
      const p = path.join(root, r);
      const st = await lstat(p);
      const dir = st.isDirectory();
      out.set(r, {
        rel: r,
        dir,
        opaque: dir && (await isOpaque(p)),
        inode: `${st.dev}:${st.ino}`,
        size: st.size,
        disk: st.blocks * 512,
      });
      if (dir) await walk(r);
    }
  };
  await walk('');
  return out;
}

function ancestors(rel: string): string[] {
  const parts = rel.split('/');
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
}

export interface Hidden {
  /** Index of the layer (bottom first) whose entry is hidden. */
  layer: number;
  rel: string;
  size: number;
  disk: number;
}

export interface Waste {
  apparent: number;
  disk: number;
  hidden: Hidden[];
}

/** What the upper layers of `fsDirs` (bottom first) hide of the lower ones. */
export async function wasteOf(fsDirs: string[]): Promise<Waste> {
  const layers = await Promise.all(fsDirs.map(readLayer));
  const hides = (j: number, e: Entry): boolean => {
    const upper = layers[j]!;
    if (upper.has(e.rel)) return true;
    return ancestors(e.rel).some((a) => {
      const u = upper.get(a);
      return u !== undefined && (!u.dir || u.opaque);
    });
  };
  const out: Waste = { apparent: 0, disk: 0, hidden: [] };
  const seen = new Set<string>();
  layers.forEach((layer, i) => {
    for (const e of layer.values()) {
      if (e.dir) continue;
      let hidden = false;
      for (let j = i + 1; j < layers.length && !hidden; j++) hidden = hides(j, e);
      if (!hidden) continue;
      out.hidden.push({ layer: i, rel: e.rel, size: e.size, disk: e.disk });
      if (seen.has(e.inode)) continue;
      seen.add(e.inode);
      out.apparent += e.size;
      out.disk += e.disk;
    }
  });
  return out;
}
