// A walker process: takes one tree at a time from the pool and walks it with synchronous calls,
// entering each directory so entries are looked up by name (a process may chdir; a thread may not).
import { walkTreeSync } from './node-walk.js';
import type { WalkJob, WalkReply } from './walk-pool.js';

process.on('message', (job: WalkJob) => {
  let reply: WalkReply;
  try {
    reply = { id: job.id, outcome: walkTreeSync(job.root, { index: job.index, opaque: job.opaque, skip: job.skip, relative: true }) };
  } catch (e) {
    reply = { id: job.id, error: (e as Error)?.message ?? String(e) };
  } finally {
    // An idle walker must not hold a directory of the docker root busy (umount, data-root moves).
    process.chdir('/');
  }
  process.send!(reply);
});
// The agent is gone: so is its walker.
process.on('disconnect', () => process.exit(0));
