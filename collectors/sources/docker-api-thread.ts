// The Docker API collector (docker-api.ts) on a worker thread, for the one-off report. Loading
// dockerode costs a sixth of a second of CPU; started with the process, on its own thread, it
// loads on the core the start-up leaves idle, before the walks need both cores.
import { Worker } from 'node:worker_threads';
import { threadScript } from '../host/sea.js';
import { noSocketAt, parseDockerHost, readDockerApi } from './docker-api.js';
import type { ApiFacts } from '../lib/facts.js';

export type ApiMessage = { preload: true } | { read: string; timeoutMs: number };

export type ApiReply = { facts: ApiFacts } | { error: string };

/**
 * The daemon address the flags will name, read before they are parsed: only to decide whether
 * loading the client early is worth it (an address that is wrong costs a wasted load, or none).
 */
export function guessDockerHost(argv: string[], env: NodeJS.ProcessEnv): string {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--docker-host' && argv[i + 1]) return argv[i + 1]!;
    if (argv[i]!.startsWith('--docker-host=')) return argv[i]!.slice('--docker-host='.length);
  }
  return env.LAYERDU_DOCKER_HOST || env.DOCKER_HOST || 'unix:///var/run/docker.sock';
}

let worker: Worker | null = null;

function start(): Worker {
  worker ??= new Worker(...threadScript(new URL('./docker-api-worker.js', import.meta.url)));
  // Never the reason the process stays up.
  worker.unref();
  return worker;
}

/**
 * Starts the thread, which loads the client at once, when a daemon seems to be at `url`: with
 * no socket there, a thread is not worth starting (reading then fails at once, on this thread).
 */
export function preloadDockerApi(url: string): void {
  try {
    if (noSocketAt(parseDockerHost(url))) return;
  } catch {
    return; // a bad address: the flags' parser says so
  }
  start().postMessage({ preload: true } satisfies ApiMessage);
}

/** readDockerApi on the thread if one was started: the same answer, the same errors (as messages). */
export function readDockerApiOffThread(url: string, timeoutMs: number): Promise<ApiFacts> {
  if (!worker) return readDockerApi(url, timeoutMs);
  const w = worker;
  worker = null; // one request per thread: it ends after answering
  return new Promise((resolve, reject) => {
    w.once('message', (reply: ApiReply) => ('facts' in reply ? resolve(reply.facts) : reject(new Error(reply.error))));
    w.once('error', reject);
    w.once('exit', (code) => reject(new Error(`API thread exited (${code})`)));
    w.postMessage({ read: url, timeoutMs } satisfies ApiMessage);
  });
}
