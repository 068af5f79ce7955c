// The Node walker: one directory tree walked with synchronous system calls (the fastest Node
// has), in a walker process (walk-pool.ts) so the event loop stays free, or on this thread a
// little at a time for small trees. It does the walks GNU find (find-walk.ts) cannot: every walk
// on a host without GNU find, and the bookkeeping around the trees a walk leaves out.
//
// Names are read as bytes (a name need not be UTF-8, collectors/lib/raw-path.ts) and hashed as
// bytes, as find's records are; paths longer than PATH_MAX are reached piece by piece (long-path.ts).
import { constants, lstatSync, opendirSync, readdirSync, type OpenDirOptions, type Stats } from 'node:fs';
import type { EntryKind } from '../lib/facts.js';
import { childHash, ROOT_HASH } from '../lib/path-index.js';
import { joinRaw, rawName, type RawPath } from '../lib/raw-path.js';
import { runInSlices } from '../lib/serving-first.js';
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
  /**
   * The tree's size is unknown but it is likely small (a writable layer): it is walked on this
   * thread first, and handed to a walker only when it turns out to hold more than a few hundred
   * entries.
   */
  smallFirst?: boolean;
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
export function kindOf(st: Stats, where: RawPath, fs: WalkFs, tally: TreeTally): EntryKind {
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
 * The paths to skip as a set, made once for each list: the rest of the root is walked as many
 * small trees that share one list of thousands of paths (every layer's `diff/`, every log).
 */
const skipSets = new WeakMap<readonly string[], ReadonlySet<string>>();
export function skipSet(skip: readonly string[] | undefined): ReadonlySet<string> {
  if (!skip || skip.length === 0) return EMPTY_SKIP;
  let set = skipSets.get(skip);
  if (!set) skipSets.set(skip, (set = new Set(skip)));
  return set;
}
const EMPTY_SKIP: ReadonlySet<string> = new Set();

/** Thrown inside a walk that was to stop once it met more entries than it was given. */
const TOO_BIG = Symbol('more entries than asked for');

/** Whether a stepped walk stopped because the tree holds more entries than it was given. */
export function wasTooBig(e: unknown): boolean {
  return e === TOO_BIG;
}

/** Stops a stepped walk that would take more entries than it was given (wasTooBig tells it). */
export function tooBig(): never {
  throw TOO_BIG;
}

/**
 * A directory's names, or null when it holds more than `most`: read a few dozen at a time, so
 * that a directory of a million names costs no more than `most` of them to find that out. In
 * readdirSync's order (libuv sorts by strcmp), so that a walk meets entries as the full one does.
 */
export function readdirAtMost(path: RawPath, most: number): Buffer[] | null {
  return withReachable(path, (q) => {
    // Names as bytes, as readdirSync gives them (`encoding: 'buffer'`, which the types leave out).
    const dir = opendirSync(q, { encoding: 'buffer' } as unknown as OpenDirOptions);
    try {
      const names: Buffer[] = [];
      for (let e = dir.readSync(); e !== null; e = dir.readSync()) {
        if (names.length === most) return null;
        names.push(e.name as unknown as Buffer);
      }
      return names.sort(Buffer.compare);
    } finally {
      dir.closeSync();
    }
  });
}

/**
 * The walk, pausing every STEP entries so that the agent's own thread can run it between other
 * work (walkYieldingInto); a walker process runs it straight through (walkTreeSync). With `most`
 * (walkIfSmall: neither `fs` nor `relative`), it gives up (TOO_BIG) at the first directory that
 * would take it past that many entries.
 */
export function* walkSteps(root: RawPath, opts: WalkOptions, tally = new TreeTally(opts.index === true, opts.opaque), most = Infinity): Generator<void, WalkOutcome> {
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
  const skip = skipSet(opts.skip);
  // Depth-first over an explicit stack: no recursion limit on deep trees.
  const stack: Array<{ path: RawPath; hash: number; entry: number; ino: number }> = [
    { path: root, hash: ROOT_HASH, entry: AT_ROOT, ino: rootStat.ino },
  ];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let names: Buffer[] | null;
    try {
      if (relative) enter(dir.path, rootStat.dev, dir.ino);
      if (relative) names = readdirSync('.', { encoding: 'buffer' });
      else names = most === Infinity ? fs.readdir(dir.path) : readdirAtMost(dir.path, most - seen);
    } catch (e) {
      tally.error(dir.path, e);
      continue;
    }
    if (names === null) throw TOO_BIG;
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
 * A tree of unknown size, walked on this thread at once when it holds at most `most` entries
 * under its root; null, with nothing counted, when it holds more (a walker's then: find, or a
 * walker process). Most writable layers hold a few files, and a walker costs more to start.
 */
export function walkIfSmall(root: RawPath, opts: Omit<WalkOptions, 'fs' | 'relative'>, most: number, tally?: TreeTally): WalkOutcome | null {
  const steps = walkSteps(root, { ...opts, relative: false }, tally, most);
  try {
    for (;;) {
      const r = steps.next();
      if (r.done) return r.value;
    }
  } catch (e) {
    if (e === TOO_BIG) return null;
    throw e;
  }
}

/**
 * The walk on this thread, a few milliseconds at a time, into `tally` (which may be summing
 * other trees too): for small trees, where a walker process would cost more to start than the walk.
 */
export async function walkYieldingInto(root: RawPath, opts: WalkOptions, tally: TreeTally): Promise<WalkOutcome> {
  return runInSlices(walkSteps(root, { ...opts, relative: false }, tally));
}
