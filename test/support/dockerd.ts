// A private Docker daemon for end-to-end tests: its own data root, socket and exec root under /tmp,
// never the host's /var/lib/docker. Uses /usr/bin/docker (the docker.io 20.10 client, which has
// BuildKit built in) explicitly: /usr/local/bin/docker may be a newer client without buildx.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import * as http from 'node:http';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findExecutable, run } from './commands.js';
import { debug } from './harness-debug.js';
import { clearLeftovers } from './leftovers.js';

export { makeBaseImage } from './base-image.js';
export { findExecutable, run } from './commands.js';
export { mountsUnder } from './mounts.js';
export { listDir, readText } from './read-if-present.js';

export const DOCKER_CLI = '/usr/bin/docker';

export interface DockerRunOptions {
  env?: Record<string, string | undefined>;
  input?: string | Buffer;
  cwd?: string;
}

export interface Daemon {
  /** The daemon's --data-root (the docker root layerdu scans). */
  root: string;
  /** unix://<root>/docker.sock */
  host: string;
  /** The socket path of `host`. */
  socket: string;
  /** The dockerd log (stdout and stderr). */
  logFile: string;
  pid: number;
  /** Runs /usr/bin/docker against this daemon; resolves with stdout, rejects with stderr. */
  docker(args: string[], opts?: DockerRunOptions): Promise<string>;
  /** GET over the unix socket, JSON-parsed. */
  api<T>(apiPath: string): Promise<T>;
  /** Removes all containers, stops dockerd, unmounts leftovers, removes root when we made it. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Use this data root (kept on stop). Default: a fresh mkdtemp('/tmp/ldu-'), removed on stop. */
  dataRoot?: string;
  /** How long to wait for GET /_ping. Default 90 s. */
  startTimeoutMs?: number;
  /** Extra dockerd arguments (e.g. ['--storage-driver', 'vfs']). */
  extraArgs?: string[];
  /** The dockerd executable. Default: `dockerd` on PATH (the system's docker.io). */
  dockerd?: string;
  /** Environment for dockerd (merged over process.env; undefined removes a variable). */
  env?: Record<string, string | undefined>;
  /** Runs after stop() has cleared dockerd's leftovers, even when that failed (e.g. stops the containerd it used). */
  afterStop?: () => Promise<void>;
}

const live = new Set<Daemon>();

// Last resort when the test process ends without stop() (a crash, process.exit): ask every daemon
// still running to shut down; dockerd then stops its containers and containerd and unmounts.
process.on('exit', () => {
  for (const d of live) {
    try {
      process.kill(d.pid, 'SIGTERM');
    } catch {
      /* gone */
    }
  }
});

/** Every daemon started and not yet stopped (the root hook stops them all). */
export function liveDaemons(): Daemon[] {
  return [...live];
}

export async function stopAllDaemons(): Promise<void> {
  const errors: unknown[] = [];
  for (const d of [...live]) {
    try {
      await d.stop();
    } catch (e) {
      errors.push(e);
    }
  }
  if (errors.length > 0) throw errors[0];
}

function tail(file: string, lines = 30): string {
  try {
    const text = readFileSync(file, 'utf8');
    return text.split('\n').slice(-lines - 1).join('\n');
  } catch (e) {
    return `(no daemon log: ${(e as Error).message})`;
  }
}

function request(socket: string, apiPath: string, method = 'GET', timeoutMs = 120_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath: socket, path: apiPath, method, headers: { Host: 'docker' }, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${apiPath}: timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

export async function startDaemon(opts: StartOptions = {}): Promise<Daemon> {
  const dockerd = opts.dockerd ?? findExecutable('dockerd');
  if (!dockerd || !existsSync(dockerd)) throw new Error(`${dockerd ?? 'dockerd'} not found (apt-get install -y docker.io)`);
  if (!existsSync(DOCKER_CLI)) throw new Error(`${DOCKER_CLI} not found (apt-get install -y docker.io)`);

  const created = opts.dataRoot === undefined;
  const root = opts.dataRoot ? path.resolve(opts.dataRoot) : await mkdtemp('/tmp/ldu-');
  await mkdir(root, { recursive: true });
  const socket = path.join(root, 'docker.sock');
  if (socket.length > 100) throw new Error(`data root ${root} is too long for a unix socket path`);
  const host = `unix://${socket}`;
  const logFile = path.join(root, 'dockerd.log');
  const logFd = openSync(logFile, 'a');
  const args = [
    '--data-root', root,
    '-H', host,
    '--exec-root', path.join(root, 'exec'),
    '--pidfile', path.join(root, 'pid'),
    '--iptables=false',
    '--ip6tables=false',
    '--bridge=none',
    '--storage-driver', 'overlay2',
    ...(opts.extraArgs ?? []),
  ];
  if (opts.extraArgs?.includes('--storage-driver')) {
    // the caller's choice wins: drop our default
    args.splice(args.indexOf('--storage-driver'), 2);
  }
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.DOCKER_HOST;
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const proc: ChildProcess = spawn(dockerd, args, { stdio: ['ignore', logFd, logFd], env });
  closeSync(logFd);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exitPromise = new Promise<void>((resolve) => {
    proc.on('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
    proc.on('error', (e) => {
      exited = { code: -1, signal: null };
      void e;
      resolve();
    });
  });
  const pid = proc.pid ?? -1;

  const dockerEnv = (extra?: Record<string, string | undefined>): NodeJS.ProcessEnv => {
    const e: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: host, DOCKER_CLI_HINTS: 'false' };
    delete e.DOCKER_CONTEXT;
    delete e.DOCKER_TLS_VERIFY;
    delete e.DOCKER_CERT_PATH;
    for (const [k, v] of Object.entries(extra ?? {})) {
      if (v === undefined) delete e[k];
      else e[k] = v;
    }
    return e;
  };

  let stopping: Promise<void> | null = null;
  const daemon: Daemon = {
    root,
    host,
    socket,
    logFile,
    pid,
    docker(dargs, dopts = {}) {
      return run(DOCKER_CLI, dargs, { env: dockerEnv(dopts.env), input: dopts.input, cwd: dopts.cwd });
    },
    async api<T>(apiPath: string): Promise<T> {
      const { status, body } = await request(socket, apiPath);
      if (status < 200 || status >= 300) throw new Error(`GET ${apiPath}: HTTP ${status}: ${body.trim()}`);
      return JSON.parse(body) as T;
    },
    stop() {
      stopping ??= (async () => {
        try {
          if (exited === null) {
            debug(`${root}: stopping`);
            try {
              const ids = (await run(DOCKER_CLI, ['ps', '-aq', '--no-trunc'], { env: dockerEnv(), timeoutMs: 60_000 }))
                .split('\n')
                .map((s) => s.trim())
                .filter(Boolean);
              if (ids.length > 0) {
                await run(DOCKER_CLI, ['rm', '-f', ...ids], { env: dockerEnv(), timeoutMs: 120_000 });
              }
            } catch {
              /* stop anyway */
            }
            debug(`${root}: containers removed; SIGTERM ${pid}`);
            proc.kill('SIGTERM');
            let grace: NodeJS.Timeout | undefined;
            const killed = await Promise.race([
              exitPromise.then(() => false),
              new Promise<boolean>((r) => (grace = setTimeout(() => r(true), 20_000))),
            ]);
            clearTimeout(grace);
            if (killed && exited === null) {
              debug(`${root}: dockerd ${pid} still up after 20 s; SIGKILL`);
              proc.kill('SIGKILL');
              await exitPromise;
            }
          }
          await clearLeftovers(root, created);
        } finally {
          try {
            await opts.afterStop?.();
          } finally {
            live.delete(daemon);
          }
        }
      })();
      return stopping;
    },
  };
  live.add(daemon);

  const timeoutMs = opts.startTimeoutMs ?? 90_000;
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no answer yet';
  for (;;) {
    if (exited !== null) {
      const ex = exited as { code: number | null; signal: NodeJS.Signals | null };
      await daemon.stop().catch(() => undefined);
      throw new Error(
        `dockerd exited during start (${ex.signal ?? `exit ${ex.code}`}); log tail of ${logFile}:\n${tail(logFile)}`,
      );
    }
    if (Date.now() > deadline) {
      const logTail = tail(logFile);
      await daemon.stop().catch(() => undefined);
      throw new Error(`dockerd did not answer GET /_ping within ${timeoutMs} ms (${lastError}); log tail:\n${logTail}`);
    }
    if (existsSync(socket)) {
      try {
        const { status, body } = await request(socket, '/_ping', 'GET', 2_000);
        if (status === 200 && body.trim() === 'OK') break;
        lastError = `HTTP ${status}: ${body.trim()}`;
      } catch (e) {
        lastError = (e as Error).message;
      }
    }
    await sleep(250);
  }
  return daemon;
}
