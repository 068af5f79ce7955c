// A walker process: takes one tree at a time from the pool and walks it with synchronous calls,
// entering each directory so entries are looked up by name (a process may chdir; a thread may not).
// The index goes to the agent a chunk at a time while the walk goes on (walk-pool.ts puts it back
// together), so this process never holds more than a chunk or two of it. A chunk's send is awaited
// before the next is sent: a synchronous loop would queue every message in this process's memory
// while the agent's thread is busy, and a slow agent would let the whole index pile up here.
import type { Socket } from 'node:net';
import type { IndexChunk } from '../lib/path-index-builder.js';
import type { SpawnRequest } from './find-spawner.js';
import { handleSpawnRequest, isSpawnRequest } from './find-spawner-child.js';
import { ListingsCapture, listingsUsable, MAX_LISTED_NAMES, SYSTEM_CLOCK, type Listings } from './listings.js';
import { findInto } from './find-walk.js';
import { walkListedSteps } from './listed-walk.js';
import { walkSteps, wasTooBig, type WalkOutcome } from './node-walk.js';
import { TreeTally } from './tally.js';
import type { WalkJob, WalkReply } from './walk-pool.js';

/** Resolves once the message is written to the channel (then the agent holds it, not this process). */
function send(message: WalkReply): Promise<void> {
  return new Promise((resolve, reject) => {
    process.send!(message, undefined, undefined, (e: Error | null) => (e ? reject(e) : resolve()));
  });
}

// What this process held before any walk: one that has grown well past it asks to be let go.
const startRss = process.memoryUsage.rss();
const grown = () => process.memoryUsage.rss() > 1.5 * startRss;

// The spawner's listed walks: what it listed in each tree the last time, and the scan that was.
const listings = new Map<string, { listings: Listings; scan: number }>();
let listingsScan = -1;
/** How long a listed walk holds this process's thread at a time. */
const LISTED_TURN_MS = 10;
/** Names remembered across every tree: a host of many busy containers keeps this process small. */
const MAX_NAMES_HELD = 10 * MAX_LISTED_NAMES;

/**
 * A listed walk: with what was listed last time, the Node walker's steps; the first time, GNU
 * find (twice as fast as reading every directory here), its records parsed here. Then what to do
 * with its outcome: keep its listings.
 */
function listedWalk(
  job: WalkJob & { listed: { scan: number } },
  tally: TreeTally,
): { steps: Generator<void, WalkOutcome> | null; find: () => Promise<boolean>; keep(o: WalkOutcome): void } {
  const { scan } = job.listed;
  if (scan !== listingsScan) {
    // A tree not walked in this scan or the last one is gone (its container removed).
    listingsScan = scan;
    for (const [root, l] of listings) if (l.scan < scan - 1) listings.delete(root);
  }
  const kept = listings.get(job.root);
  listings.delete(job.root);
  const previous = kept && listingsUsable(kept.listings, SYSTEM_CLOCK) ? kept.listings : null;
  const capture = ListingsCapture.startingNow();
  return {
    // A tree grown far past what was remembered, or first met too big, goes to the agent's find.
    steps: previous ? walkListedSteps(job.root, { index: job.index, opaque: job.opaque }, tally, previous, capture, 2 * MAX_LISTED_NAMES) : null,
    find: async () => {
      await findInto([job.root], tally, capture);
      return !capture.overflowed;
    },
    keep(o) {
      if (o.problems.length > 0) return;
      const got = capture.result();
      let held = 0;
      for (const l of listings.values()) held += l.listings.names;
      if (got && held + got.names <= MAX_NAMES_HELD) listings.set(job.root, { listings: got, scan });
    },
  };
}

async function walk(job: WalkJob): Promise<Exclude<WalkReply, { chunk: unknown }>> {
  const ready: IndexChunk[] = [];
  const tally = new TreeTally(job.index, job.opaque, (chunk) => ready.push(chunk));
  // At most one chunk on its way while the walk goes on, and one more filling.
  let sending: Promise<void> = Promise.resolve();
  const flush = async () => {
    while (ready.length > 0) {
      await sending;
      sending = send({ id: job.id, chunk: ready.shift()! });
      sending.catch(() => undefined); // handled where it is awaited
    }
  };
  const tooBig = async (): Promise<Exclude<WalkReply, { chunk: unknown }>> => {
    await sending.catch(() => undefined);
    return { id: job.id, tooBig: true, grown: grown() };
  };
  const listed = job.listed ? listedWalk({ ...job, listed: job.listed }, tally) : null;
  let outcome: WalkOutcome;
  if (listed && !listed.steps) {
    // At most MAX_LISTED_NAMES entries: less than one chunk of the index, sent once find is done.
    if (!(await listed.find())) return tooBig();
    outcome = tally.outcome();
  } else {
    const steps = listed?.steps ?? walkSteps(job.root, { index: job.index, opaque: job.opaque, skip: job.skip, relative: true }, tally);
    let r;
    // A listed walk runs beside the finds this process starts: it lets their requests in now and then.
    let until = listed ? performance.now() + LISTED_TURN_MS : Infinity;
    try {
      for (r = steps.next(); !r.done; r = steps.next()) {
        if (ready.length > 0) await flush();
        if (performance.now() > until) {
          await new Promise((go) => setImmediate(go));
          until = performance.now() + LISTED_TURN_MS;
        }
      }
    } catch (e) {
      if (!wasTooBig(e)) throw e;
      return tooBig();
    }
    outcome = r.value;
  }
  listed?.keep(outcome);
  const tail = tally.indexTail();
  await flush();
  await sending;
  return { id: job.id, outcome, tail, grown: grown() };
}

async function answer(job: WalkJob, after: () => void = () => undefined): Promise<void> {
  let reply: WalkReply;
  try {
    reply = await walk(job);
  } catch (e) {
    reply = { id: job.id, error: (e as Error)?.message ?? String(e), grown: grown() };
  } finally {
    after();
  }
  await send(reply).catch(() => undefined); // a channel gone: 'disconnect' ends this process
}

// One walk at a time (the pool sends the next job after this one's reply; a walk chdirs). The
// spawner's listed walks never chdir, and run side by side as the finds they stand for do.
let queue: Promise<void> = Promise.resolve();
process.on('message', (job: WalkJob | SpawnRequest, handle: unknown) => {
  // The find spawner is a walker process too (find-spawner.ts): it gets only these.
  if (isSpawnRequest(job)) return handleSpawnRequest(job, handle as Socket | undefined);
  if (job.listed) return void answer(job);
  // An idle walker must not hold a directory of the docker root busy (umount, data-root moves).
  queue = queue.then(() => answer(job, () => process.chdir('/')));
});
// The agent is gone: so is its walker.
process.on('disconnect', () => process.exit(0));
