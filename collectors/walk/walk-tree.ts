// Which walker walks a tree. GNU find (find-walk.ts) where there is one: C speed, a few finds at
// once. Without it, or with LAYERDU_WALKER=node, the Node walker in walker processes
// (walk-pool.ts). Both give the same sums and the same index (test/integration/walk.test.ts on staged
// trees, test/e2e/walkers.test.ts on a real daemon's layers).
import { lstatSync, promises as fsp, readdirSync } from 'node:fs';
import { joinRaw } from '../lib/raw-path.js';
import type { EntryKind, Problem } from '../lib/facts.js';
import { inSlice } from '../lib/serving-first.js';
import { findInto, gnuFindAvailable, walkWithFind } from './find-walk.js';
import { prepareFindSpawner, walkListedInSpawner } from './find-spawner.js';
import { AT_ROOT, TreeTally, walkErrorMessage, type EntryStat, type WalkOutcome } from './tally.js';
import { walkerCount, walkInPool, warmWalkers } from './walk-pool.js';
import { entryStat, skipSet, walkIfSmall, walkYieldingInto, type WalkOptions } from './node-walk.js';

function findWanted(): Promise<boolean> {
  return process.env.LAYERDU_WALKER === 'node' ? Promise.resolve(false) : gnuFindAvailable();
}

let spawnerWanted = true;

/**
 * This process is a one-off report: it starts its finds itself. It is small while it starts
 * them (a fork costs it a few ms), and the spawner would take a core for about 0.3 s to start,
 * while the report loads its modules, before its first find (0.1-0.15 s of a 1.7 s report at
 * 300k files). Called before the first prepareWalkers.
 */
export function startFindsHere(): void {
  spawnerWanted = false;
}

/**
 * Boots walker processes ahead of the first walk when this host will need them (no GNU find),
 * or else the process that starts the finds (find-spawner.ts), both while this one is small.
 */
export function prepareWalkers(): void {
  void findWanted().then((found) => {
    if (!found) warmWalkers();
    else if (spawnerWanted) prepareFindSpawner();
  });
}

// At most this many finds at once, started in the order asked (the scan asks for the biggest
// first). By default one per core and one more: each find has a second half, the parsing on this
// thread, and while a find waits for it (or for its pipe) the extra one keeps the cores busy
// (about 5% faster at 300k files, warm). The one place that changes it is setFindSlots, called
// once at start by the CLI and the agent with concurrency.ts's rule for the docker root's device.
let findSlots: number | null = null;
let running = 0;
const waiting: Array<() => void> = [];

/** Finds in flight from now on (null: the default, cores + 1). Called once, at start. */
export function setFindSlots(n: number | null): void {
  findSlots = n === null ? null : Math.max(1, Math.floor(n));
}

/** How many finds may walk at once. */
export function findSlotCount(): number {
  return findSlots ?? walkerCount() + 1;
}

async function withFindSlot<T>(work: () => Promise<T>): Promise<T> {
  if (running < findSlotCount()) running += 1;
  else await new Promise<void>((go) => waiting.push(go)); // a finishing walk hands over its slot
  try {
    return await work();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else running -= 1;
  }
}

/**
 * A tree but for some paths under it (counted elsewhere), into one tally: find cannot leave out
 * a list of paths cheaply, so the top level is split. What holds a path to leave out (the
 * driver's directory, `containers/`, `volumes/`) is small bookkeeping around the big trees left
 * out: the Node walker takes it on this thread, a little at a time. The rest goes to find whole.
 */
async function walkSkipping(root: string, opts: WalkOptions & { skip: string[] }): Promise<WalkOutcome> {
  const tally = new TreeTally(false);
  const skip = skipSet(opts.skip);
  let names: Buffer[];
  let dev: number;
  try {
    const st = lstatSync(root);
    dev = st.dev;
    if (!tally.root(entryStat(st))) return tally.outcome();
    names = readdirSync(root, { encoding: 'buffer' });
  } catch (e) {
    tally.error(root, e);
    return tally.outcome();
  }
  // Every directory that holds a path to skip: thousands of names meet thousands of paths here.
  const holders = new Set<string>();
  for (const p of opts.skip) for (let i = p.indexOf('/', 1); i > 0; i = p.indexOf('/', i + 1)) holders.add(p.slice(0, i));
  const holdsSkipped = (path: string) => holders.has(path);
  const small: Promise<unknown>[] = [];
  const whole: string[] = [];
  for (const name of names) {
    const path = joinRaw(root, name);
    if (typeof path === 'string' && skip.has(path)) continue;
    // find takes its roots as strings: a name that is no UTF-8 is walked here.
    // Thousands of them (the driver's layer directories) are started a slice of this thread a turn.
    if (typeof path !== 'string' || holdsSkipped(path)) small.push(inSlice(() => walkYieldingInto(path, opts, tally)));
    else {
      try {
        // Another filesystem mounted here is not this tree's: find would walk all of it for nothing.
        if (lstatSync(path).dev === dev) whole.push(path);
      } catch (e) {
        tally.error(path, e);
      }
    }
  }
  // Most of what is left is a few entries each (networks, plugins, the daemon's own containerd):
  // walked here, each up to a few hundred entries; what is bigger goes to one find.
  const big: string[] = [];
  for (const path of whole) {
    const walked = await inSlice(() => recordIfSmall(path, SMALL_TREE));
    if (walked) walked.replayInto(tally);
    else big.push(path);
  }
  if (big.length) small.push(withFindSlot(() => findInto(big, tally)));
  await Promise.all(small);
  return tally.outcome();
}

/**
 * A tally that keeps what it was given, so that a small walk of its own can be added to another
 * tally entry by entry, as though walked into it (hardlinks across the two counted once).
 */
class RecordingTally extends TreeTally {
  private readonly calls: Array<{ st: EntryStat; root: boolean }> = [];

  constructor() {
    super(false);
  }

  override root(st: EntryStat): boolean {
    this.calls.push({ st, root: true });
    return super.root(st);
  }

  override add(st: EntryStat, kind: EntryKind | null, hash: number, parent: number): number {
    this.calls.push({ st, root: false });
    return super.add(st, kind, hash, parent);
  }

  replayInto(tally: TreeTally): void {
    for (const c of this.calls) {
      if (c.root) tally.root(c.st);
      else tally.add(c.st, null, 0, AT_ROOT);
    }
    tally.problems.push(...this.problems);
  }
}

/** A tree walked here into a RecordingTally when it holds at most `most` entries; else null. */
function recordIfSmall(root: string, most: number): RecordingTally | null {
  const tally = new RecordingTally();
  return walkIfSmall(root, {}, most, tally) ? tally : null;
}

/**
 * Below this many entries a walk runs on this thread: starting find (or waiting for a walker
 * process) costs a few milliseconds (tens once the agent's heap is large: a fork copies its page
 * tables), lstat-ing a couple of hundred entries here about one.
 */
const SMALL_TREE = 256;

/**
 * Walks a tree; problems go to `problems` and the walk always completes. With a custom `fs`
 * (tests that stage races) the Node walker runs inline, and so it does for a tree known to be
 * small, or thought small (`smallFirst`) and found so.
 */
export async function walkTree(root: string, opts: WalkOptions & { problems: Problem[]; listed?: ListedWalk }): Promise<Omit<WalkOutcome, 'problems'>> {
  if (opts.listed && !opts.fs && !opts.skip?.length && opts.entries === undefined && typeof root === 'string') return walkListed(root, { ...opts, listed: undefined }, opts.listed);
  let outcome: WalkOutcome;
  const tryHere = opts.smallFirst === true && opts.entries === undefined && !opts.fs && !opts.skip?.length;
  const small = tryHere ? await inSlice(() => walkIfSmall(root, opts, SMALL_TREE)) : null;
  if (opts.fs) {
    const { walkTreeSync } = await import('./node-walk.js');
    outcome = walkTreeSync(root, opts);
  } else if (small) {
    outcome = small;
  } else if (opts.entries !== undefined && opts.entries <= SMALL_TREE && !opts.skip?.length) {
    outcome = await walkYieldingInto(root, opts, new TreeTally(opts.index === true, opts.opaque));
  } else if (await findWanted()) {
    outcome = opts.skip?.length ? await walkSkipping(root, { ...opts, skip: opts.skip }) : await withFindSlot(() => walkWithFind(root, opts));
  } else {
    try {
      outcome = await walkInPool(root, opts);
    } catch (e) {
      opts.problems.push({ path: root, message: `walker failed: ${(e as Error).message}` });
      return { size: { disk: 0, apparent: 0, entries: 0 }, index: null };
    }
  }
  opts.problems.push(...outcome.problems);
  return { size: outcome.size, index: outcome.index };
}

/**
 * A tree walked every scan by the agent (a writable layer, an orphan): the scan's number, how
 * the last scan walked it, and where this walk says how it went.
 */
export interface ListedWalk {
  scan: number;
  /** In the find spawner, which remembers what it listed ('listed'); by find, too big to remember ('big'). */
  last: 'listed' | 'big' | undefined;
  note(how: 'listed' | 'big' | 'small'): void;
}

/**
 * A tree the agent walks again and again, in the find spawner: it keeps what it listed in each
 * directory (listings.ts), and an unchanged directory is not read again, where find reads every
 * one. Small trees are walked here, and one too big to remember by find, as any other.
 */
async function walkListed(root: string, opts: WalkOptions & { problems: Problem[]; listed: undefined }, listed: ListedWalk): Promise<Omit<WalkOutcome, 'problems'>> {
  if (listed.last !== 'big' && (await findWanted())) {
    // Small-first here, unless the spawner had it last time: it was bigger than that then.
    const small = listed.last === 'listed' || opts.smallFirst !== true ? null : await inSlice(() => walkIfSmall(root, opts, SMALL_TREE));
    if (small) {
      listed.note('small');
      opts.problems.push(...small.problems);
      return { size: small.size, index: small.index };
    }
    // A find slot: the spawner's walk is a find, or stands for one.
    const walked = await withFindSlot(() => walkListedInSpawner(root, { index: opts.index === true, opaque: opts.opaque ?? opts.index === true }, listed.scan));
    if (walked && walked !== 'too big') {
      listed.note('listed');
      opts.problems.push(...walked.problems);
      return { size: walked.size, index: walked.index };
    }
    if (walked === 'too big') listed.note('big');
  } else if (listed.last === 'big') listed.note('big');
  return walkTree(root, opts);
}

/** One file on both bases (a content blob): no walk, one lstat; a problem makes it 0. */
export async function measureFile(path: string, problems: Problem[]): Promise<{ disk: number; apparent: number }> {
  try {
    const st = await fsp.lstat(path);
    return { disk: st.blocks * 512, apparent: st.isDirectory() ? 0 : st.size };
  } catch (e) {
    problems.push({ path, message: walkErrorMessage(e) });
    return { disk: 0, apparent: 0 };
  }
}

/**
 * A small piece of metadata (a record): a file, or a directory but for the part counted elsewhere
 * (a layer's directory but its `diff/`), walked on this thread. Records are a few entries each:
 * starting find for one would cost more than walking it.
 */
export async function measureRecord(path: string, skip: string | undefined, problems: Problem[]): Promise<{ disk: number; apparent: number }> {
  let st;
  try {
    st = await fsp.lstat(path);
  } catch (e) {
    // Gone: nothing of it to free. A record that should be there is its collector's to name.
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') problems.push({ path, message: walkErrorMessage(e) });
    return { disk: 0, apparent: 0 };
  }
  if (!st.isDirectory()) return { disk: st.blocks * 512, apparent: st.size };
  const outcome = await walkYieldingInto(path, { skip: skip ? [skip] : [] }, new TreeTally(false));
  problems.push(...outcome.problems);
  return { disk: outcome.size.disk, apparent: outcome.size.apparent };
}
