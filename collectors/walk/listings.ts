// What a walk of a changing tree (a container's writable layer) listed in each of its
// directories, kept by the find spawner for the next scan's walk of the same tree. Every entry is
// lstat-ed again each scan (a file grows without its directory changing), but a directory whose
// ctime is older than the last walk holds the names that walk read: creating, removing or
// renaming an entry changes its directory's ctime, and nothing can set a ctime back. Reading the
// directories again is about half the system calls of a walk (GNU find opens, lists and closes
// each), so an unchanged tree of a few thousand directories is walked at lstat's cost alone.
//
// A listing is a tree, as the directories are: each holds its names (strings while UTF-8), their
// hashes in the path index, and the listings of those that are directories, so a walk finds each
// by position, with no path built or looked up for it.
import { childHash } from '../lib/path-index.js';
import { rawName, type RawPath } from '../lib/raw-path.js';

/**
 * A listing is trusted only for a directory whose ctime is this much older than the walk that
 * listed it: file times come from the kernel's coarse clock (a tick behind), and a directory
 * changed while the walk ran may keep a ctime from just before the walk began.
 */
export const LISTING_MARGIN_MS = 1000;

/** Trees with more names than this are not remembered: their walks go to find whole, off this thread. */
export const MAX_LISTED_NAMES = 20_000;

export interface Listed {
  ino: number;
  /** The names, in the order the walk met them: a string while UTF-8, else the bytes. */
  readonly names: readonly RawPath[];
  /** Each name's hash under this directory (path-index.ts's childHash of the directory's). */
  readonly hashes: Float64Array;
  /** The listing of each name that is a directory the walk entered. */
  readonly dirs: (Listed | undefined)[];
}

export interface Listings {
  /** When the walk that read them began: the wall clock, and the monotonic one beside it. */
  wallMs: number;
  monoMs: number;
  root: Listed;
  names: number;
}

/** The clock a walk reads; tests give their own. */
export interface WalkClock {
  wallMs(): number;
  monoMs(): number;
}

export const SYSTEM_CLOCK: WalkClock = { wallMs: () => Date.now(), monoMs: () => performance.now() };

/**
 * Whether `previous` may be used at all now: a wall clock set back since it was taken would
 * give new changes ctimes older than the walk, so its listings are dropped when the wall clock
 * has moved less than the monotonic one (beyond the margin).
 */
export function listingsUsable(previous: Listings, clock: WalkClock): boolean {
  const wall = clock.wallMs() - previous.wallMs;
  const mono = clock.monoMs() - previous.monoMs;
  return wall >= 0 && wall >= mono - LISTING_MARGIN_MS;
}

/** `d` (the last listing of a directory, inode `ino`, ctime `ctimeMs`) when it still holds, else null. */
export function stillListed(d: Listed | undefined, ino: number, ctimeMs: number, listedAtMs: number): Listed | null {
  return d && d.ino === ino && ctimeMs < listedAtMs - LISTING_MARGIN_MS ? d : null;
}

const keyOf = (name: RawPath) => (typeof name === 'string' ? `s${name}` : `b${name.toString('latin1')}`);

/**
 * The last listing of the entry `name` of a directory read again (it changed): its
 * subdirectories may not have. By name, the last listing's own order being gone.
 */
export function formerDir(former: Listed | null, name: RawPath, cache: WeakMap<Listed, Map<string, number>>): Listed | undefined {
  if (!former) return undefined;
  let at = cache.get(former);
  if (!at) {
    at = new Map();
    for (let i = 0; i < former.names.length; i++) if (former.dirs[i]) at.set(keyOf(former.names[i]!), i);
    cache.set(former, at);
  }
  const i = at.get(keyOf(name));
  return i === undefined ? undefined : former.dirs[i];
}

/** A directory's names as read (bytes), as a listing's: strings while UTF-8, hashed under `dirHash`. */
export function namesRead(names: readonly Buffer[], dirHash: number): { names: RawPath[]; hashes: Float64Array } {
  const hashes = new Float64Array(names.length);
  names.forEach((n, i) => (hashes[i] = childHash(dirHash, n)));
  return { names: names.map(rawName), hashes };
}

/** Collects one walk's listings; `fail()` (a problem) or too many names keeps none. */
export class ListingsCapture {
  private root: Listed | null = null;
  private names = 0;
  private dropped = false;
  private tooMany = false;

  constructor(private readonly started: { wallMs: number; monoMs: number }) {}

  static startingNow(clock: WalkClock = SYSTEM_CLOCK): ListingsCapture {
    return new ListingsCapture({ wallMs: clock.wallMs(), monoMs: clock.monoMs() });
  }

  /** A directory's listing, its subdirectories' to be attached; counted against the limit. */
  listing(ino: number, names: readonly RawPath[], hashes: Float64Array, dirs: (Listed | undefined)[] = new Array<Listed | undefined>(names.length)): Listed {
    this.names += names.length;
    if (this.names > MAX_LISTED_NAMES) this.overflow();
    return { ino, names, hashes, dirs };
  }

  /** A directory found as the last walk listed it: its names kept, its subdirectories attached anew. */
  kept(d: Listed): Listed {
    return this.listing(d.ino, d.names, d.hashes);
  }

  attach(parent: Listed, at: number, child: Listed): void {
    parent.dirs[at] = child;
  }

  setRoot(root: Listed): void {
    this.root = root;
  }

  /** More names than are kept: nothing is kept, and the walk may stop (overflowed). */
  overflow(): void {
    this.tooMany = true;
    this.fail();
  }

  get overflowed(): boolean {
    return this.tooMany;
  }

  fail(): void {
    this.dropped = true;
  }

  /** The listings, or null when the walk met a problem or too many names, or listed no root. */
  result(): Listings | null {
    return this.dropped || !this.root ? null : { wallMs: this.started.wallMs, monoMs: this.started.monoMs, root: this.root, names: this.names };
  }
}
