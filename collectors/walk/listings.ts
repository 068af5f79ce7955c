// What a walk of a changing tree (a container's writable layer) listed in each of its
// directories, kept by the agent for the next scan's walk of the same tree. Every entry is
// lstat-ed again each scan (a file grows without its directory changing), but a directory whose
// ctime is older than the last walk holds the names that walk read: creating, removing or
// renaming an entry changes its directory's ctime, and nothing can set a ctime back. Reading the
// directories again is about half the system calls of a walk (GNU find opens, lists and closes
// each), so an unchanged tree of a few thousand directories is walked at lstat's cost alone.
import type { RawPath } from '../lib/raw-path.js';

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
  /** The names, '/'-separated (no name holds one): one buffer a directory, not one a name. */
  names: Buffer;
  count: number;
}

export interface Listings {
  /** When the walk that read them began: the wall clock, and the monotonic one beside it. */
  wallMs: number;
  monoMs: number;
  /** By the directory's path (UTF-8 paths only: others are listed again). */
  dirs: Map<string, Listed>;
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

/** What `previous` holds for the directory at `path` (inode `ino`, ctime `ctimeMs`), or null when it must be read again. */
export function stillListed(previous: Listings, path: RawPath, ino: number, ctimeMs: number): Listed | null {
  if (typeof path !== 'string') return null;
  const d = previous.dirs.get(path);
  return d && d.ino === ino && ctimeMs < previous.wallMs - LISTING_MARGIN_MS ? d : null;
}

/** A listing's names, in the order they were listed. */
export function namesOf(d: Listed): Buffer[] {
  const { names: joined, count } = d;
  const out: Buffer[] = new Array<Buffer>(count);
  let start = 0;
  for (let i = 0; i < count; i++) {
    const end = i === count - 1 ? joined.length : joined.indexOf(0x2f, start);
    out[i] = joined.subarray(start, end);
    start = end + 1;
  }
  return out;
}

/** Collects one walk's listings; `failed()` (a problem, too many names) keeps none. */
export class ListingsCapture {
  private readonly dirs = new Map<string, Listed>();
  private names = 0;
  private dropped = false;
  private tooMany = false;

  constructor(private readonly started: { wallMs: number; monoMs: number }) {}

  static startingNow(clock: WalkClock = SYSTEM_CLOCK): ListingsCapture {
    return new ListingsCapture({ wallMs: clock.wallMs(), monoMs: clock.monoMs() });
  }

  /** A directory's names, in the order the walk met them (a path that is no string is not kept). */
  add(path: RawPath, ino: number, names: readonly Buffer[]): void {
    if (this.dropped) return;
    this.names += names.length;
    if (this.names > MAX_LISTED_NAMES) return this.overflow();
    if (typeof path === 'string') this.dirs.set(path, { ino, names: Buffer.concat(joinable(names)), count: names.length });
  }

  /** A directory found as `previous` listed it: kept as it is. */
  keep(path: string, d: Listed): void {
    if (this.dropped) return;
    this.names += d.count;
    if (this.names > MAX_LISTED_NAMES) return this.overflow();
    this.dirs.set(path, d);
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
    this.dirs.clear();
  }

  /** The listings, or null when the walk met a problem or too many names. */
  result(): Listings | null {
    return this.dropped ? null : { wallMs: this.started.wallMs, monoMs: this.started.monoMs, dirs: this.dirs, names: this.names };
  }
}

const SLASH = Buffer.from('/');

function joinable(names: readonly Buffer[]): Buffer[] {
  const parts: Buffer[] = [];
  names.forEach((n, i) => {
    if (i > 0) parts.push(SLASH);
    parts.push(n);
  });
  return parts;
}
