// A walker thread: takes one tree at a time from the pool, walks it with synchronous calls, and
// hands back the sums and the index (its typed arrays are transferred, not copied).
import { parentPort } from 'node:worker_threads';
import { walkTreeSync } from './walk.js';
import type { WalkJob, WalkReply } from './walk-pool.js';

parentPort!.on('message', (job: WalkJob) => {
  let reply: WalkReply;
  try {
    reply = { id: job.id, outcome: walkTreeSync(job.root, { index: job.index, source: job.source }) };
  } catch (e) {
    reply = { id: job.id, error: (e as Error)?.message ?? String(e) };
  }
  const ix = 'outcome' in reply ? reply.outcome.index : null;
  const transfer = ix ? [ix.hashes, ix.parents, ix.kinds, ix.disk, ix.apparent, ix.inos, ix.order].map((a) => a.buffer as ArrayBuffer) : [];
  parentPort!.postMessage(reply, transfer);
});
