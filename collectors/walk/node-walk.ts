// The Node walker: one directory tree walked with synchronous system calls (the fastest Node
// has), in a walker process (walk-pool.ts) so the event loop stays free, or on this thread a
// little at a time for small trees. It does the walks GNU find (find-walk.ts) cannot: every walk
// on a host without GNU find, and the bookkeeping around the trees a walk leaves out.
//
// Names are read as bytes (a name need not be UTF-8, collectors/lib/raw-path.ts) and hashed as
// bytes, as find's records are; paths longer than PATH_MAX are reached piece by piece (long-path.ts).
import { constants, lstatSync, readdirSync, type Stats } from 'node:fs';
import type { EntryKind } from '../lib/facts.js';
import { childHash, ROOT_HASH } from '../lib/path-index.js';
import { joinRaw, rawName, type RawPath } from '../lib/raw-path.js';
import { reachable, withOpenDir, withReachable } from './long-path.js';
import { AT_ROOT, isOpaqueDir, NOT_ENTERED, TreeTally, type EntryStat, type WalkOutcome } from './tally.js';

export type { WalkOutcome } from './tally.js';

/** The few fs calls the walker makes, so tests can stage races (a file deleted mid-walk). */
export interface WalkFs {
  lstat(path: RawPath): Stats;
  /** The names, as bytes. */
  readdir(path: RawPath): Buffer[];
  isOpaque(path: RawPath): boolean;
}

const { S_IFMT, S_IFDIR, S_IFREG, S_IFCHR } = constants;

export const nodeWalkFs: WalkFs = {
  lstat: (p) => withReachable(p, (q) => lstatSync(q)),
  readdir: (p) => withReachable(p, (q) => readdirSync(q, { encoding: 'buffer' })),
  isOpaque: isOpaqueDir,
};

export interface WalkOptions {
  /** Build the per-path index (image and container layers only). */
  index?: boolean;
  /** Tell opaque directories in the index (default: when indexing). */
  opaque?: boolean;
  fs?: WalkFs;
  /**
   * Enter each directory and look entries up by name alone, as du does with fstatat: the kernel
   * then resolves one component instead of the whole path, about a third faster on deep layers.
   * It changes the working directory, so only a walker process (walk-child.ts) may ask for it.
   */
  relative?: boolean;
  /** Absolute paths left out with everything under them (counted elsewhere). */
  skip?: string[];
  /** How many entries the tree has, when its store recorded it: small trees skip the walker process. */
  entries?: number;
}

/**
 * chdir follows symlinks: a directory swapped for a link between lstat and chdir would lead the
 * walk out of the tree. Entering is only trusted when `.` is still the inode that was listed.
 * process.chdir takes a string of PATH_MAX at most: a longer path, or one with a name that is no
 * UTF-8, is entered through the directory opened (its /proc/self/fd link).
 */
function enter(dir: RawPath, dev: number, ino: number): void {
  if (typeof dir === 'string' && reachable(dir)) process.chdir(dir);
  else withOpenDir(dir, (open) => process.chdir(open));
  const here = lstatSync('.');
  if (here.dev !== dev || here.ino !== ino) throw Object.assign(new Error('replaced during the walk'), { code: 'ENOENT' });
}

export function entryStat(st: Stats): EntryStat {
  return { isDir: (st.mode & S_IFMT) === S_IFDIR, dev: st.dev, ino: st.ino, nlink: st.nlink, blocks: st.blocks, size: st.size };
}

/** `where` names the entry for the opaque check: the bare name when walking relative, else the path. */
function kindOf(st: Stats, where: RawPath, fs: WalkFs, tally: TreeTally): EntryKind {
  const type = st.mode & S_IFMT;
  if (type === S_IFDIR) return tally.opaque && fs.isOpaque(where) ? 'opaque' : 'dir';
  if (type === S_IFREG) return 'file';
  // overlayfs records a delete as a character device with device number 0/0.
  return type === S_IFCHR && st.rdev === 0 ? 'whiteout' : 'other';
}

export function walkTreeSync(root: RawPath, opts: WalkOptions): WalkOutcome {
  const steps = walkSteps(root, opts);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** Entries looked at between two pauses of a stepped walk. */
const STEP = 2000;

/**
 * The walk, pausing every STEP entries so that the agent's own thread can run it between other
 * work (walkYieldingInto); a walker process runs it straight through (walkTreeSync).
 */
export function* walkSteps(root: RawPath, opts: WalkOptions, tally = new TreeTally(opts.index === true, opts.opaque)): Generator<void, WalkOutcome> {
  const fs = opts.fs ?? nodeWalkFs;
  let rootStat: Stats;
  try {
    rootStat = fs.lstat(root);
  } catch (e) {
    tally.error(root, e);
    return tally.outcome();
  }
  if (!tally.root(entryStat(rootStat))) return tally.outcome();

  const relative = opts.relative === true;
  let seen = 0;
  const skip = new Set(opts.skip ?? []);
  // Depth-first over an explicit stack: no recursion limit on deep trees.
  const stack: Array<{ path: RawPath; hash: number; entry: number; ino: number }> = [
    { path: root, hash: ROOT_HASH, entry: AT_ROOT, ino: rootStat.ino },
  ];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let names: Buffer[];
    try {
      if (relative) enter(dir.path, rootStat.dev, dir.ino);
      names = relative ? readdirSync('.', { encoding: 'buffer' }) : fs.readdir(dir.path);
    } catch (e) {
      tally.error(dir.path, e);
      continue;
    }
    for (const name of names) {
      if (++seen % STEP === 0) yield;
      const path = joinRaw(dir.path, name);
      if (skip.size > 0 && typeof path === 'string' && skip.has(path)) continue;
      let st: Stats;
      try {
        st = relative ? lstatSync(name) : fs.lstat(path);
      } catch (e) {
        tally.error(path, e);
        continue;
      }
      const hash = tally.indexing ? childHash(dir.hash, name) : 0;
      const kind = tally.indexing ? kindOf(st, relative ? rawName(name) : path, fs, tally) : null;
      const entry = tally.add(entryStat(st), kind, hash, dir.entry);
      if (entry !== NOT_ENTERED) stack.push({ path, hash, entry, ino: st.ino });
    }
  }
  return tally.outcome();
}

/**
 * The walk on this thread, a few milliseconds at a time, into `tally` (which may be summing
 * other trees too): for small trees, where a walker process would cost more to start than the walk.
 */
export async function walkYieldingInto(root: RawPath, opts: WalkOptions, tally: TreeTally): Promise<WalkOutcome> {
  const steps = walkSteps(root, { ...opts, relative: false }, tally);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
