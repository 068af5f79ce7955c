// The walk step: every store directory measured, a few at a time, biggest first. Committed image
// layers never change, so the agent keeps their walks between scans (the layer cache), each with
// the stamp it was taken under: a layer directory made again under the same id is walked again.
import { readsTrustedXattrs } from '../../collectors/host/capabilities.js';
import { describeError } from '../../collectors/lib/errors.js';
import type { Bytes, DirFact, LayerIndex, Problem } from '../../collectors/lib/facts.js';
import { markOpaque } from '../../collectors/lib/path-index.js';
import { displayPath } from '../../collectors/lib/raw-path.js';
import type { StoreDir } from '../../collectors/stores/store.js';
import { readOpaqueDirs } from '../../collectors/walk/opaque-records.js';
import { measureFile, walkTree, type ListedWalk } from '../../collectors/walk/walk-tree.js';
import { readStamp } from './layer-cache-file.js';
import { sameStamp, type LayerStamp } from './layer-cache-format.js';

export interface CachedWalk {
  bytes: Bytes;
  index: LayerIndex | null;
  /** The layer directory's lstat and the store's record when it was walked; a walk without one is not reused. */
  stamp?: LayerStamp;
}

/** By the store's cache key: a layer pulled again gets a new directory, so a new key. */
export type LayerCache = Map<string, CachedWalk>;

export interface WalkedDirs {
  dirs: Map<string, DirFact>;
  indexes: Map<string, LayerIndex>;
  layersWalked: number;
  layersReused: number;
  /** The indexes this scan walked (not reused): a waste figure kept from before that used one's layer is stale. */
  fresh: Set<LayerIndex>;
}

/** Bigger first; ties (Infinity among them) keep the store's order. */
export function walkOrder(dirs: readonly StoreDir[]): StoreDir[] {
  return [...dirs].sort((a, b) => (a.weight === b.weight ? 0 : b.weight - a.weight));
}

/**
 * Without CAP_SYS_ADMIN a walk cannot see overlayfs' opaque markers (trusted.* xattrs): the
 * layer's own record tells them instead, and a layer without one is named, since the waste its
 * opaque directories hide would otherwise be missed without a word.
 */
async function opaqueFromRecord(d: StoreDir, index: LayerIndex, problems: Problem[]): Promise<void> {
  if (!d.opaqueRecord) {
    problems.push({ path: d.path, message: "opaque directories unknown: their xattr needs CAP_SYS_ADMIN and the store keeps no readable record of this layer's tar; its images' wasted bytes may be low" });
    return;
  }
  try {
    const missing = markOpaque(index, await readOpaqueDirs(d.opaqueRecord));
    if (missing.length > 0) problems.push({ path: d.opaqueRecord.file, message: `names ${missing.length} opaque director${missing.length === 1 ? 'y' : 'ies'} the layer does not hold (first: ${JSON.stringify(displayPath(missing[0]!))})` });
  } catch (e) {
    problems.push({ path: d.opaqueRecord.file, message: `opaque directories unreadable from the layer's record: ${describeError(e)}` });
  }
}

/** How a tree walked every scan was walked last: in the find spawner with its listings, or by find (too big). */
export interface ListedTree {
  how: 'listed' | 'big';
  index: boolean;
  opaque: boolean;
}

/**
 * How the agent's last scan walked each tree it walks every scan (writable layers, orphans), by
 * the tree's path, and this scan's number: walk-tree.ts's listed walks. `early`: this scan's
 * walks of the trees the spawner walked last time, begun with the scan (beginListedScan).
 */
export interface ListingsMemo {
  scan: number;
  current: Map<string, ListedTree>;
  early?: Map<string, EarlyWalk>;
}

interface EarlyWalk {
  flags: ListedTree;
  done: Promise<{ walked: Awaited<ReturnType<typeof walkTree>>; problems: Problem[]; how: 'listed' | 'big' | 'small' } | null>;
}

/**
 * At a scan's start: its number, and the trees the spawner walked last scan walked again at
 * once. Which trees there are is known only once the metadata is read (20 ms and more before a
 * walk could start); a tree the inventory no longer names (its container removed) is walked for
 * nothing and its walk dropped.
 */
export function beginListedScan(memo: ListingsMemo): void {
  memo.scan += 1;
  memo.early = new Map();
  for (const [path, flags] of memo.current) {
    if (flags.how !== 'listed') continue;
    const problems: Problem[] = [];
    let how: 'listed' | 'big' | 'small' = 'listed';
    const listed: ListedWalk = { scan: memo.scan, last: 'listed', note: (h) => void (how = h) };
    const done = walkTree(path, { problems, index: flags.index, opaque: flags.opaque, smallFirst: true, listed }).then(
      (walked) => ({ walked, problems, how }),
      () => null,
    );
    memo.early.set(path, { flags, done });
  }
}

export interface WalkDirsOptions {
  listings?: ListingsMemo;
  /** Take opaque directories from the stores' records (default: when trusted.* xattrs are hidden from this process). */
  opaqueFromRecords?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export async function walkDirs(
  planned: readonly StoreDir[],
  problems: Problem[],
  cache: LayerCache | undefined,
  opts: WalkDirsOptions = {},
): Promise<WalkedDirs> {
  const { onProgress } = opts;
  const fromRecords = opts.opaqueFromRecords ?? !readsTrustedXattrs();
  const out: WalkedDirs = { dirs: new Map(), indexes: new Map(), layersWalked: 0, layersReused: 0, fresh: new Set() };
  const liveKeys = new Set<string>();
  const nextListings = new Map<string, ListedTree>();
  const fact = (d: StoreDir, bytes: Bytes): DirFact => ({ id: d.id, role: d.role, path: d.path, bytes, ...(d.kind ? { kind: d.kind } : {}) });
  async function measure(d: StoreDir): Promise<void> {
    if (d.file) {
      out.dirs.set(d.id, fact(d, await measureFile(d.path, problems)));
      return;
    }
    // Taken before the walk: a directory replaced while it is walked does not match next time.
    const stamp = d.cacheKey && cache ? await readStamp(d.path, d.record ?? '') : null;
    const hit = d.cacheKey ? cache?.get(d.cacheKey) : undefined;
    if (d.cacheKey) liveKeys.add(d.cacheKey);
    if (hit && sameStamp(hit.stamp, stamp)) {
      out.dirs.set(d.id, fact(d, hit.bytes));
      if (hit.index) out.indexes.set(d.id, hit.index);
      out.layersReused += 1;
      return;
    }
    const walkProblems: Problem[] = [];
    // A tree that is no committed layer is walked every scan: its listings make the next walk cheaper.
    const memo = opts.listings && !d.cacheKey && d.entries === undefined ? opts.listings : null;
    const flags = { index: d.index === true, opaque: d.opaque === true };
    const note = (how: 'listed' | 'big' | 'small') => void (how === 'small' ? nextListings.delete(d.path) : nextListings.set(d.path, { how, ...flags }));
    const listed: ListedWalk | undefined = memo ? { scan: memo.scan, last: memo.current.get(d.path)?.how, note } : undefined;
    const early = memo?.early?.get(d.path);
    const begun = early && early.flags.index === flags.index && early.flags.opaque === flags.opaque ? await early.done : null;
    if (begun) {
      note(begun.how);
      walkProblems.push(...begun.problems);
    }
    const walked = begun?.walked ?? (await walkTree(d.path, { problems: walkProblems, index: d.index, opaque: d.opaque, ...(d.entries !== undefined ? { entries: d.entries } : { smallFirst: true }), ...(listed ? { listed } : {}) }));
    if (fromRecords && d.opaque && walked.index) await opaqueFromRecord(d, walked.index, walkProblems);
    // A directory gone before its walk began (a container or image removed during the scan): its
    // object is still in the scan's lists, so its 0 is named rather than shown as a size.
    // (A container's is named with its container: agent/scan/joins.ts.)
    if (walked.size.entries === 0 && walkProblems.length === 0 && d.role !== 'container-layer' && d.role !== 'container-init') walkProblems.push({ path: d.path, message: `${d.role} directory gone before its walk (removed during the scan?): counts as 0` });
    problems.push(...walkProblems);
    const bytes = { disk: walked.size.disk, apparent: walked.size.apparent };
    out.dirs.set(d.id, fact(d, bytes));
    if (walked.index) {
      out.indexes.set(d.id, walked.index);
      out.fresh.add(walked.index);
    }
    if (d.cacheKey) {
      out.layersWalked += 1;
      // A walk that met problems is not kept: the next scan tries again.
      if (cache && walkProblems.length === 0 && stamp) cache.set(d.cacheKey, { bytes, index: walked.index, stamp });
      else cache?.delete(d.cacheKey);
    }
  }
  let done = 0;
  // Walks run a few at a time (walk-tree.ts), taken in this order.
  await Promise.all(
    walkOrder(planned).map(async (d) => {
      try {
        await measure(d);
      } finally {
        onProgress?.(++done, planned.length);
      }
    }),
  );
  if (cache) for (const k of cache.keys()) if (!liveKeys.has(k)) cache.delete(k);
  if (opts.listings) {
    opts.listings.current = nextListings;
    delete opts.listings.early;
  }
  return out;
}
