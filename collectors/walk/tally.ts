// What both walkers (node-walk.ts in Node, find-walk.ts with GNU find) do with each entry they meet:
// sum it on both byte bases of ../shared/contract.md and, when asked, index it (path-index.ts).
//
// cAdvisor's rules: st_blocks*512 for disk bytes, every inode once (hardlinks), never count or
// enter another device (a running container's `merged/` or `mounts/shm`), and a file that
// vanishes between readdir and lstat is normal churn on a live host.
import { createRequire } from 'node:module';
import type { EntryKind, Problem, TreeSize } from '../lib/facts.js';
import { type PathIndex } from '../lib/path-index.js';
import { PathIndexBuilder, type IndexChunk, type IndexTail } from '../lib/path-index-builder.js';
import { describeError } from '../lib/errors.js';
import { collectGarbage } from './collect-garbage.js';
import { displayPath, type RawPath } from '../lib/raw-path.js';
import { reachable, withOpenDir } from './long-path.js';

export interface WalkOutcome {
  size: TreeSize;
  index: PathIndex | null;
  problems: Problem[];
}

/** The lstat fields the sums and the index need. */
export interface EntryStat {
  isDir: boolean;
  dev: number;
  ino: number;
  nlink: number;
  /** st_blocks: 512-byte units. */
  blocks: number;
  size: number;
}

/** An entry number for a directory to descend into; NOT_ENTERED for everything else. */
export const NOT_ENTERED = -2;
/** The parent entry number of what lies directly under the walk's root. */
export const AT_ROOT = -1;

const OPAQUE_XATTRS = ['trusted.overlay.opaque', 'user.overlay.opaque'];

// Loaded on the first directory that needs it, not at start-up: every report run waits for what
// loads before its walks begin, and a native addon takes a while to load. The agent loads it
// before it serves (a scrape must not wait behind the load).
let xattr: typeof import('@napi-rs/xattr') | null = null;

export function loadXattr(): typeof import('@napi-rs/xattr') {
  return (xattr ??= createRequire(import.meta.url)('@napi-rs/xattr') as typeof import('@napi-rs/xattr'));
}

function opaqueAt(path: string): boolean {
  // Without CAP_SYS_ADMIN the list leaves trusted.* out: an unprivileged agent sees "not opaque".
  const { listAttributesSync, getAttributeSync } = loadXattr();
  const names = listAttributesSync(path);
  return names.length > 0 && OPAQUE_XATTRS.some((name) => names.includes(name) && getAttributeSync(path, name)?.toString() === 'y');
}

/**
 * The overlayfs opaque marker of a directory (trusted.* as root, user.* for rootless daemons).
 * Listing first: most directories carry no attribute at all, and one call is then enough. The
 * addon takes string paths of PATH_MAX at most: a name that is no UTF-8, or a path too long, is
 * read through the directory opened (`/proc/self/fd/<n>/.`: the addon does not follow links).
 */
export function isOpaqueDir(path: RawPath): boolean {
  try {
    return typeof path === 'string' && reachable(path) ? opaqueAt(path) : withOpenDir(path, (dir) => opaqueAt(`${dir}/.`));
  } catch {
    return false; // gone since it was listed: its walk reports that
  }
}

/** What a walk calls an entry gone between two looks at it: normal churn on a live host, not a fault. */
export const VANISHED = 'vanished during the walk';

/**
 * How a walk names a problem with an entry: vanishing is churn, and so is a directory that is no
 * directory any more when it is entered (ENOTDIR: removed, a file made in its place).
 */
export function walkErrorMessage(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR' ? VANISHED : describeError(e);
}

export class TreeTally {
  readonly size: TreeSize = { disk: 0, apparent: 0, entries: 0 };
  readonly problems: Problem[] = [];
  private readonly builder: PathIndexBuilder | null;
  private readonly seenInodes = new Set<number>();
  private dev = -1;

  /**
   * `index`: build the path index. `opaque`: tell opaque directories from plain ones in it (an
   * extended-attribute read per directory); only a layer with layers below can hide anything by
   * being opaque. `sink`: the index goes there chunk by chunk as it is built (a walker process),
   * and the outcome has none; indexTail() ends it.
   */
  constructor(
    index: boolean,
    readonly opaque = index,
    private readonly sink: ((chunk: IndexChunk) => void) | null = null,
  ) {
    this.builder = index ? new PathIndexBuilder(sink) : null;
  }

  /** Whether entries need their kind. */
  get indexing(): boolean {
    return this.builder !== null;
  }

  /** A directory's kind for the index. */
  dirKind(path: RawPath): EntryKind {
    return this.opaque && isOpaqueDir(path) ? 'opaque' : 'dir';
  }

  error(path: RawPath, e: unknown): void {
    this.problems.push({ path: displayPath(path), message: walkErrorMessage(e) });
  }

  /**
   * The walk's root, counted and never indexed: its device bounds the walk. A tally can sum
   * several trees (a walk split in parts); the root of a later one counts only on that device.
   * True when it is a directory to descend into.
   */
  root(st: EntryStat): boolean {
    if (this.dev === -1) this.dev = st.dev;
    else if (st.dev !== this.dev) return false;
    this.count(st);
    return st.isDir;
  }

  /**
   * One entry under the root, `kind` given when indexing. Returns its entry number when it is a
   * directory to descend into, else NOT_ENTERED.
   */
  add(st: EntryStat, kind: EntryKind | null, hash: number, parent: number): number {
    if (st.dev !== this.dev) return NOT_ENTERED;
    const counted = this.count(st);
    const entry = this.builder && kind ? this.builder.add(hash, parent, kind, counted.disk, counted.apparent, counted.ino) : AT_ROOT;
    return st.isDir ? entry : NOT_ENTERED;
  }

  private readonly last = { disk: 0, apparent: 0, ino: 0 };

  private count(st: EntryStat): { disk: number; apparent: number; ino: number } {
    let disk = st.blocks * 512;
    let apparent = !st.isDir && st.size > 0 ? st.size : 0;
    const linked = !st.isDir && st.nlink > 1;
    // Directories cannot be hardlinked, and a file with one link cannot recur: only the rest
    // need remembering, which keeps the set small on real layers.
    if (linked && this.seenInodes.has(st.ino)) disk = apparent = 0;
    else {
      if (linked) this.seenInodes.add(st.ino);
      this.size.entries += 1;
    }
    this.size.disk += disk;
    this.size.apparent += apparent;
    const last = this.last;
    last.disk = disk;
    last.apparent = apparent;
    last.ino = linked ? st.ino : 0;
    return last;
  }

  outcome(): WalkOutcome {
    return { size: this.size, index: this.builder && !this.sink ? this.builder.finish(undefined, collectGarbage) : null, problems: this.problems };
  }

  /** With a sink: the last entries to it, and the rest of the index (null when not indexing). */
  indexTail(): IndexTail | null {
    return this.builder && this.sink ? this.builder.end() : null;
  }
}
