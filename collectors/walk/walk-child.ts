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
import { walkSteps } from './node-walk.js';
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

async function walk(job: WalkJob): Promise<Extract<WalkReply, { outcome: unknown }>> {
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
  const steps = walkSteps(job.root, { index: job.index, opaque: job.opaque, skip: job.skip, relative: true }, tally);
  let r = steps.next();
  for (; !r.done; r = steps.next()) if (ready.length > 0) await flush();
  const tail = tally.indexTail();
  await flush();
  await sending;
  return { id: job.id, outcome: r.value, tail, grown: grown() };
}

// One walk at a time (the pool sends the next job after this one's reply; a walk chdirs).
let queue: Promise<void> = Promise.resolve();
process.on('message', (job: WalkJob | SpawnRequest, handle: unknown) => {
  // The find spawner is a walker process too (find-spawner.ts): it gets only these.
  if (isSpawnRequest(job)) return handleSpawnRequest(job, handle as Socket | undefined);
  queue = queue.then(async () => {
    let reply: WalkReply;
    try {
      reply = await walk(job);
    } catch (e) {
      reply = { id: job.id, error: (e as Error)?.message ?? String(e), grown: grown() };
    } finally {
      // An idle walker must not hold a directory of the docker root busy (umount, data-root moves).
      process.chdir('/');
    }
    await send(reply).catch(() => undefined); // a channel gone: 'disconnect' ends this process
  });
});
// The agent is gone: so is its walker.
process.on('disconnect', () => process.exit(0));
