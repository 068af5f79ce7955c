// The worker thread behind docker-api-thread.ts (started only when a daemon seems to be there):
// loads dockerode early when asked, answers one request, and ends.
import { parentPort } from 'node:worker_threads';
import type { ApiMessage, ApiReply } from './docker-api-thread.js';
import { readDockerApi } from './docker-api.js';

parentPort!.on('message', async (m: ApiMessage) => {
  if ('preload' in m) {
    // A client that fails to load: the request says so in its own words.
    await import('dockerode').catch(() => undefined);
    return;
  }
  let reply: ApiReply;
  try {
    reply = { facts: await readDockerApi(m.read, m.timeoutMs) };
  } catch (e) {
    reply = { error: (e as Error)?.message ?? String(e) };
  }
  parentPort!.postMessage(reply);
  // A hung daemon's socket must not keep this thread (or the process) alive.
  process.exit(0);
});
