// The worker thread behind docker-api-thread.ts: loads dockerode early when asked and a daemon
// seems to be there, answers one request, and ends.
import { stat } from 'node:fs/promises';
import { parentPort } from 'node:worker_threads';
import type { ApiMessage, ApiReply } from './docker-api-thread.js';
import { parseDockerHost, readDockerApi } from './docker-api.js';

parentPort!.on('message', async (m: ApiMessage) => {
  if ('preload' in m) {
    try {
      const { socketPath } = parseDockerHost(m.preload);
      if (socketPath) await stat(socketPath);
      await import('dockerode');
    } catch {
      // No daemon there (or no client): the request says so in its own words.
    }
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
