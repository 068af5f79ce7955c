// The tree walker: one directory tree summed on both byte bases of ../shared/contract.md, and,
// when asked, indexed path by path for the waste and copy-up analysis.
//
// cAdvisor's rules: st_blocks*512 for disk bytes, every inode once (hardlinks), never cross into
// another device (a running container's `merged/` or `mounts/shm`), a file that vanishes between
// readdir and lstat is normal churn on a live host, and concurrency stays bounded.
import { promises as fsp, type Stats, type Dirent } from 'node:fs';
import { getAttribute } from '@napi-rs/xattr';
import type { IndexEntry, LayerIndex, ScanError, TreeSize } from './facts.js';

/** The few fs calls the walker makes, so tests can stage races (a file deleted mid-walk). */
export interface WalkFs {
  lstat(path: string): Promise<Stats>;
  readdir(path: string): Promise<Dirent[]>;
  /** The overlayfs opaque marker of a directory (trusted.* as root, user.* for rootless daemons). */
  isOpaque(path: string): Promise<boolean>;
}

const OPAQUE_XATTRS = ['trusted.overlay.opaque', 'user.overlay.opaque'];

export const nodeWalkFs: WalkFs = {
  lstat: (p) => fsp.lstat(p),
  readdir: (p) => fsp.readdir(p, { withFileTypes: true }),
  async isOpaque(p) {
    for (const name of OPAQUE_XATTRS) {
      const v = await getAttribute(p, name).catch(() => null);
      if (v && v.toString() === 'y') return true;
    }
    return false;
  },
};

export interface WalkOptions {
  /** Build the per-path index (image and container layers only: it costs memory). */
  index?: boolean;
  /** Where problems go; the walk always goes on. */
  errors: ScanError[];
  source: string;
  fs?: WalkFs;
  /** How many lstat calls may be in flight at once. */
  concurrency?: number;
}

export interface WalkResult {
  size: TreeSize;
  index: LayerIndex | null;
}

function errno(e: unknown): string {
  return (e as NodeJS.ErrnoException)?.code ?? 'EIO';
}

function describe(e: unknown): string {
  const code = errno(e);
  if (code === 'ENOENT') return 'vanished during the walk';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return (e as Error)?.message ?? String(e);
}

export async function walkTree(root: string, opts: WalkOptions): Promise<WalkResult> {
  const fs = opts.fs ?? nodeWalkFs;
  const limit = opts.concurrency ?? 32;
  const size: TreeSize = { disk: 0, apparent: 0, entries: 0 };
  const index: LayerIndex | null = opts.index ? new Map() : null;
  const seenInodes = new Set<number>();
  const report = (path: string, e: unknown) =>
    opts.errors.push({ source: opts.source, path, message: describe(e) });

  let rootStat: Stats;
  try {
    rootStat = await fs.lstat(root);
  } catch (e) {
    report(root, e);
    return { size, index };
  }
  const dev = rootStat.dev;

  // Counts one entry; returns true when it is a directory to descend into.
  const count = async (path: string, rel: string, st: Stats): Promise<boolean> => {
    if (st.dev !== dev) return false;
    const isDir = st.isDirectory();
    // Directories cannot be hardlinked, and a file with one link cannot recur: only the rest
    // need remembering, which keeps the set small on real layers.
    if (!isDir && st.nlink > 1) {
      if (seenInodes.has(st.ino)) {
        if (index && rel) index.set(rel, { kind: kindOf(st), disk: 0, apparent: 0, ino: st.ino });
        return false;
      }
      seenInodes.add(st.ino);
    }
    const disk = st.blocks * 512;
    const apparent = !isDir && st.size > 0 ? st.size : 0;
    size.disk += disk;
    size.apparent += apparent;
    size.entries += 1;
    if (index && rel) {
      const entry: IndexEntry = { kind: kindOf(st), disk, apparent };
      if (entry.kind === 'dir' && (await fs.isOpaque(path))) entry.kind = 'opaque';
      if (!isDir && st.nlink > 1) entry.ino = st.ino;
      index.set(rel, entry);
    }
    return isDir;
  };

  if (!(await count(root, '', rootStat))) return { size, index };

  // Depth-first over an explicit stack: no recursion limit on deep trees.
  const stack: Array<[string, string]> = [[root, '']];
  while (stack.length > 0) {
    const [dir, rel] = stack.pop()!;
    let dirents: Dirent[];
    try {
      dirents = await fs.readdir(dir);
    } catch (e) {
      report(dir, e);
      continue;
    }
    for (let i = 0; i < dirents.length; i += limit) {
      const batch = dirents.slice(i, i + limit);
      await Promise.all(
        batch.map(async (d) => {
          const path = `${dir}/${d.name}`;
          const childRel = rel ? `${rel}/${d.name}` : d.name;
          let st: Stats;
          try {
            st = await fs.lstat(path);
          } catch (e) {
            report(path, e);
            return;
          }
          if (await count(path, childRel, st)) stack.push([path, childRel]);
        }),
      );
    }
  }
  return { size, index };
}

function kindOf(st: Stats): IndexEntry['kind'] {
  if (st.isDirectory()) return 'dir';
  if (st.isFile()) return 'file';
  // overlayfs records a delete as a character device with device number 0/0.
  if (st.isCharacterDevice() && st.rdev === 0) return 'whiteout';
  return 'other';
}
