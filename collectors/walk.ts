// The tree walker: one directory tree summed on both byte bases of ../shared/contract.md, and,
// when asked, indexed path by path (collectors/path-index.ts) for the waste and copy-up analysis.
//
// cAdvisor's rules: st_blocks*512 for disk bytes, every inode once (hardlinks), never cross into
// another device (a running container's `merged/` or `mounts/shm`), a file that vanishes between
// readdir and lstat is normal churn on a live host. The walk itself is synchronous system calls,
// the fastest Node has, and runs in walker processes (walk-pool.ts) so the event loop stays free.
import { constants, lstatSync, readdirSync, type Stats } from 'node:fs';
import { getAttributeSync } from '@napi-rs/xattr';
import type { EntryKind, ScanError, TreeSize } from './facts.js';
import { childHash, PathIndexBuilder, ROOT_HASH, type PathIndex } from './path-index.js';
import { describeError } from './read.js';

/** The few fs calls the walker makes, so tests can stage races (a file deleted mid-walk). */
export interface WalkFs {
  lstat(path: string): Stats;
  readdir(path: string): string[];
  /** The overlayfs opaque marker of a directory (trusted.* as root, user.* for rootless daemons). */
  isOpaque(path: string): boolean;
}

const { S_IFMT, S_IFDIR, S_IFREG, S_IFCHR } = constants;

const OPAQUE_XATTRS = ['trusted.overlay.opaque', 'user.overlay.opaque'];

export const nodeWalkFs: WalkFs = {
  lstat: (p) => lstatSync(p),
  readdir: (p) => readdirSync(p),
  isOpaque(p) {
    for (const name of OPAQUE_XATTRS) {
      try {
        if (getAttributeSync(p, name)?.toString() === 'y') return true;
      } catch {
        // No permission for trusted.* (an unprivileged agent) reads as "not opaque".
      }
    }
    return false;
  },
};

export interface WalkOptions {
  /** Build the per-path index (image and container layers only). */
  index?: boolean;
  source: string;
  fs?: WalkFs;
  /**
   * Enter each directory and look entries up by name alone, as du does with fstatat: the kernel
   * then resolves one component instead of the whole path, about a third faster on deep layers.
   * It changes the working directory, so only a walker process (walk-child.ts) may ask for it.
   */
  relative?: boolean;
  /** Absolute paths left out with everything under them (counted elsewhere). */
  skip?: string[];
}

export interface WalkOutcome {
  size: TreeSize;
  index: PathIndex | null;
  errors: ScanError[];
}


function message(e: unknown): string {
  return (e as NodeJS.ErrnoException)?.code === 'ENOENT' ? 'vanished during the walk' : describeError(e);
}

/**
 * chdir follows symlinks: a directory swapped for a link between lstat and chdir would lead the
 * walk out of the tree. Entering is only trusted when `.` is still the inode that was listed.
 */
function enter(dir: string, dev: number, ino: number): void {
  process.chdir(dir);
  const here = lstatSync('.');
  if (here.dev !== dev || here.ino !== ino) throw Object.assign(new Error('replaced during the walk'), { code: 'ENOENT' });
}

export function walkTreeSync(root: string, opts: WalkOptions): WalkOutcome {
  const fs = opts.fs ?? nodeWalkFs;
  const size: TreeSize = { disk: 0, apparent: 0, entries: 0 };
  const errors: ScanError[] = [];
  const builder = opts.index ? new PathIndexBuilder() : null;
  const seenInodes = new Set<number>();
  const report = (path: string, e: unknown) => errors.push({ source: opts.source, path, message: message(e) });

  let rootStat: Stats;
  try {
    rootStat = fs.lstat(root);
  } catch (e) {
    report(root, e);
    return { size, index: builder?.finish() ?? null, errors };
  }
  const dev = rootStat.dev;

  const relative = opts.relative === true;

  // Sums one entry and indexes it; returns its entry number, or -2 when it is not to be entered.
  // `where` names it for the opaque check: the bare name when walking relative, else the path.
  const count = (where: string, st: Stats, hash: number, parent: number, isRoot: boolean): number => {
    if (st.dev !== dev) return -2;
    const type = st.mode & S_IFMT;
    const isDir = type === S_IFDIR;
    let disk = st.blocks * 512;
    let apparent = !isDir && st.size > 0 ? st.size : 0;
    const linked = !isDir && st.nlink > 1;
    // Directories cannot be hardlinked, and a file with one link cannot recur: only the rest
    // need remembering, which keeps the set small on real layers.
    if (linked && seenInodes.has(st.ino)) disk = apparent = 0;
    else {
      if (linked) seenInodes.add(st.ino);
      size.entries += 1;
    }
    size.disk += disk;
    size.apparent += apparent;
    if (!builder || isRoot) return isDir ? -1 : -2;
    const kind: EntryKind = isDir
      ? fs.isOpaque(where)
        ? 'opaque'
        : 'dir'
      : type === S_IFREG
        ? 'file'
        : type === S_IFCHR && st.rdev === 0
          ? 'whiteout' // overlayfs records a delete as a character device with device number 0/0
          : 'other';
    const i = builder.add(hash, parent, kind, disk, apparent, linked ? st.ino : 0);
    return isDir ? i : -2;
  };

  if (count(root, rootStat, ROOT_HASH, -1, true) === -2) return { size, index: builder?.finish() ?? null, errors };

  const skip = new Set(opts.skip ?? []);
  // Depth-first over an explicit stack: no recursion limit on deep trees.
  const stack: Array<{ path: string; hash: number; entry: number; ino: number }> = [
    { path: root, hash: ROOT_HASH, entry: -1, ino: rootStat.ino },
  ];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let names: string[];
    try {
      if (relative) enter(dir.path, dev, dir.ino);
      names = relative ? readdirSync('.') : fs.readdir(dir.path);
    } catch (e) {
      report(dir.path, e);
      continue;
    }
    for (const name of names) {
      if (skip.size > 0 && skip.has(`${dir.path}/${name}`)) continue;
      let st: Stats;
      try {
        st = relative ? lstatSync(name) : fs.lstat(`${dir.path}/${name}`);
      } catch (e) {
        report(`${dir.path}/${name}`, e);
        continue;
      }
      const hash = builder ? childHash(dir.hash, name) : 0;
      const entry = count(relative ? name : `${dir.path}/${name}`, st, hash, dir.entry, false);
      if (entry !== -2) stack.push({ path: `${dir.path}/${name}`, hash, entry, ino: st.ino });
    }
  }
  return { size, index: builder?.finish() ?? null, errors };
}
