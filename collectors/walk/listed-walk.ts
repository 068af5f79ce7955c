// The listed walk: a tree walked every scan (a writable layer), walked again with what its last
// walk listed in each directory (listings.ts), in the find spawner (walk-child.ts). The Node
// walker's pieces (node-walk.ts), in find's order: depth first, names as listed.
import { lstatSync, type Stats } from 'node:fs';
import { ROOT_HASH } from '../lib/path-index.js';
import { joinRaw, type RawPath } from '../lib/raw-path.js';
import { formerDir, namesRead, stillListed, type Listed, type Listings, type ListingsCapture } from './listings.js';
import { entryStat, kindOf, nodeWalkFs, readdirAtMost, tooBig, type WalkOptions } from './node-walk.js';
import { AT_ROOT, NOT_ENTERED, type TreeTally, type WalkOutcome } from './tally.js';

/** Entries between two pauses of a listed walk: each is an lstat on this thread (several µs). */
const LISTED_STEP = 64;
/** A string of fewer UTF-16 units than this has fewer bytes than long-path.ts's limit: lstat it as it is. */
const LISTED_PATH_MAX = 1000;

/**
 * The walk of a tree walked before (a writable layer; listings.ts): a directory unchanged since
 * `previous` was read is not read again, each entry is still lstat-ed. Depth first in the order
 * the names were listed, as find walks, so that an unchanged tree gives the very index its
 * first walk gave (the agent's copy-up memo compares them). Every directory's names go to
 * `capture`. With `most`, it gives up (TOO_BIG) at the first directory that would take it past
 * that many entries (walkIfSmall).
 */
export function* walkListedSteps(
  root: string,
  opts: Pick<WalkOptions, 'index' | 'opaque'>,
  tally: TreeTally,
  previous: Listings | null,
  capture: ListingsCapture,
  most = Infinity,
): Generator<void, WalkOutcome> {
  const fs = nodeWalkFs;
  const listedAt = previous?.wallMs ?? 0;
  const former = new WeakMap<Listed, Map<string, number>>();
  let seen = 0;
  /** The directory's listing: the last one while it holds, else its names read now; null when unreadable. */
  const list = (path: RawPath, st: Stats, last: Listed | undefined, hash: number): Listed | null => {
    const kept = stillListed(last, st.ino, st.ctimeMs, listedAt);
    if (kept) {
      if (seen + kept.names.length > most) tooBig();
      return capture.kept(kept);
    }
    let names: Buffer[] | null;
    try {
      names = most === Infinity ? fs.readdir(path) : readdirAtMost(path, most - seen);
    } catch (e) {
      tally.error(path, e);
      capture.fail();
      return null;
    }
    if (names === null) tooBig();
    const read = namesRead(names, hash);
    return capture.listing(st.ino, read.names, read.hashes);
  };
  // A problem anywhere keeps no listings: the next walk reads every directory.
  const lstatOrNull = (path: RawPath): Stats | null => {
    try {
      return typeof path === 'string' && path.length < LISTED_PATH_MAX ? lstatSync(path) : fs.lstat(path);
    } catch (e) {
      tally.error(path, e);
      capture.fail();
      return null;
    }
  };
  const rootStat = lstatOrNull(root);
  if (!rootStat || !tally.root(entryStat(rootStat))) return tally.outcome();
  const top = list(root, rootStat, previous?.root, ROOT_HASH);
  if (!top) return tally.outcome();
  capture.setRoot(top);
  const frames: Array<{ path: RawPath; entry: number; listed: Listed; last: Listed | undefined; same: boolean; at: number }> = [
    { path: root.endsWith('/') ? root.slice(0, -1) : root, entry: AT_ROOT, listed: top, last: previous?.root, same: top.names === previous?.root.names, at: 0 },
  ];
  while (frames.length > 0) {
    const dir = frames[frames.length - 1]!;
    const at = dir.at++;
    if (at === dir.listed.names.length) {
      frames.pop();
      continue;
    }
    if (++seen % LISTED_STEP === 0) yield;
    const name = dir.listed.names[at]!;
    const path = typeof name === 'string' && typeof dir.path === 'string' ? `${dir.path}/${name}` : joinRaw(dir.path, typeof name === 'string' ? Buffer.from(name) : name);
    const st = lstatOrNull(path);
    if (!st) continue;
    const hash = dir.listed.hashes[at]!;
    const kind = tally.indexing ? kindOf(st, path, fs, tally) : null;
    const entry = tally.add(entryStat(st), kind, tally.indexing ? hash : 0, dir.entry);
    if (entry === NOT_ENTERED) continue;
    // Its last listing: at the same place when this directory's names are the last walk's.
    const last = dir.same ? dir.last?.dirs[at] : formerDir(dir.last ?? null, name, former);
    const listed = list(path, st, last, hash);
    if (!listed) continue;
    capture.attach(dir.listed, at, listed);
    frames.push({ path, entry, listed, last, same: last !== undefined && listed.names === last.names, at: 0 });
  }
  return tally.outcome();
}
