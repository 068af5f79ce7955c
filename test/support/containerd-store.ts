// A private Docker daemon on the containerd image store: Debian 13's dockerd 26.1 with the
// `containerd-snapshotter` feature, on a private containerd 1.7 (Debian 13's as well) that has its
// own root, state and socket. Both live under one mkdtemp('/tmp/ldc-') directory (or the caller's
// `base`, which stop() keeps):
//   <base>/docker/                the docker data root (Daemon.root; socket, exec root, pidfile inside)
//   <base>/daemon.json            {"features":{"containerd-snapshotter":true}}
//   <base>/containerd/config.toml version 2; root, state, grpc.address below; CRI disabled
//   <base>/containerd/root/       the containerd root (io.containerd.*)
//   <base>/containerd/state/      its state (shim bundles)
//   <base>/containerd/containerd.sock
// Runtime: the trixie containerd-shim-runc-v2 is found first on PATH; the shim then runs `runc` from
// PATH, which is the system's Debian 12 /usr/sbin/runc (trixie's needs glibc 2.38). stop() (also
// reached through stopAllDaemons in the root hook) stops dockerd, then containerd and any shim,
// unmounts what is left under <base> and removes it. startContainerd() is the containerd part alone
// (containerd-node.ts starts it without dockerd, as a Kubernetes node runs it).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from './commands.js';
import { startDaemon, type Daemon } from './dockerd.js';
import { debug } from './harness-debug.js';
import { clearLeftovers } from './leftovers.js';
import { ensureTrixie, type TrixieBins } from './trixie-packages.js';

/** Debian 12's runc, installed with the system's docker.io (test/support/ensure-deps.ts). */
export const SYSTEM_RUNC = '/usr/sbin/runc';
/** Docker's containerd namespace. */
export const MOBY_NAMESPACE = 'moby';

export interface PrivateContainerd {
  /** The containerd root (`root` in config.toml). */
  root: string;
  state: string;
  /** The gRPC socket (`grpc.address`); ttrpc listens on `<socket>.ttrpc`. */
  socket: string;
  config: string;
  logFile: string;
  pid: number;
}

export interface ContainerdStoreDaemon extends Daemon {
  /** The one temporary directory holding the docker root, containerd's root and state. */
  base: string;
  containerd: PrivateContainerd;
  bins: TrixieBins;
  /** `ctr --address <socket> -n moby <args>` (the trixie ctr); `namespace: null` leaves out `-n`. */
  ctr(args: string[], opts?: { namespace?: string | null }): Promise<string>;
  /** Seconds: the one-time download (null: it came from the cache), containerd's and dockerd's starts. */
  timings: { downloadSeconds: number | null; containerdSeconds: number; dockerdSeconds: number };
}

export interface ContainerdStoreOptions {
  /** How long to wait for each daemon. Default 90 s. */
  startTimeoutMs?: number;
  /** Merged into daemon.json (the containerd-snapshotter feature is always on). */
  daemonJson?: Record<string, unknown>;
  /** Lay the daemons out in this directory (made if missing, kept by stop()) instead of a fresh mkdtemp('/tmp/ldc-'). */
  base?: string;
}

const liveContainerd = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of liveContainerd) {
    try {
      p.kill('SIGTERM');
    } catch {
      /* gone */
    }
  }
});

function containerdConfig(dir: string): string {
  // TOML basic strings: our paths hold no quote or backslash (mkdtemp under /tmp).
  return [
    'version = 2',
    `root = "${dir}/root"`,
    `state = "${dir}/state"`,
    // CRI wants CNI, a sandbox image and its own state; Docker does not use it.
    'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
    '',
    '[grpc]',
    `  address = "${dir}/containerd.sock"`,
    '',
    // Default /opt/containerd: keep even that under our directory.
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = "${dir}/opt"`,
    '',
  ].join('\n');
}

export interface StartedContainerd {
  containerd: PrivateContainerd;
  bins: TrixieBins;
  /** trixie's bin dirs first (containerd-shim-runc-v2), then the system's, where runc is. */
  PATH: string;
  /** `ctr --address <socket> -n <namespace> <args>` (the trixie ctr); `namespace: null` leaves out `-n`. */
  ctr(args: string[], opts?: { namespace?: string | null }): Promise<string>;
  /** Stops containerd (SIGTERM, SIGKILL after 20 s), then its shims, the mounts under `base` and `base` when made; once. */
  stop(): Promise<void>;
  /** Seconds containerd took to answer. */
  seconds: number;
}

export interface StartContainerdOptions {
  /** What stop() clears once containerd is gone: shims naming it, mounts under it, and it when `created`. */
  base: string;
  created: boolean;
  /** ctr's namespace when a call names none. */
  namespace: string;
  timeoutMs: number;
  /** TMPDIR for containerd and ctr. */
  tmp: string;
}

/** The trixie binaries (downloaded once), after checking that the system's runc is there. */
export function containerdBinaries(): Promise<TrixieBins> {
  if (!existsSync(SYSTEM_RUNC)) throw new Error(`${SYSTEM_RUNC} not found (apt-get install -y docker.io runc)`);
  return ensureTrixie();
}

/**
 * Starts a private containerd in `dir` (config.toml, root/, state/, containerd.sock; CRI
 * disabled) with the trixie binaries and the system's runc, and waits until it answers.
 */
export async function startContainerd(dir: string, opts: StartContainerdOptions): Promise<StartedContainerd> {
  const bins = await containerdBinaries();
  const { base, created, timeoutMs } = opts;
  await mkdir(dir, { recursive: true });
  const containerd: PrivateContainerd = {
    root: path.join(dir, 'root'),
    state: path.join(dir, 'state'),
    socket: path.join(dir, 'containerd.sock'),
    config: path.join(dir, 'config.toml'),
    logFile: path.join(dir, 'containerd.log'),
    pid: -1,
  };
  await writeFile(containerd.config, containerdConfig(dir));

  // not /usr/local, so that no other runc or shim can win
  const PATH = [path.join(bins.root, 'usr/bin'), path.join(bins.root, 'usr/sbin'), '/usr/sbin', '/usr/bin', '/sbin', '/bin'].join(':');
  const env: NodeJS.ProcessEnv = { ...process.env, PATH, TMPDIR: opts.tmp };
  delete env.DOCKER_HOST;
  delete env.CONTAINERD_ADDRESS;
  delete env.CONTAINERD_NAMESPACE;

  const ctr = (args: string[], o: { namespace?: string | null } = {}): Promise<string> => {
    const ns = o.namespace === undefined ? opts.namespace : o.namespace;
    return run(bins.ctr, ['--address', containerd.socket, ...(ns === null ? [] : ['-n', ns]), ...args], { env, timeoutMs: 120_000 });
  };

  const t0 = Date.now();
  const logFd = openSync(containerd.logFile, 'a');
  const proc = spawn(bins.containerd, ['--config', containerd.config], { stdio: ['ignore', logFd, logFd], env });
  closeSync(logFd);
  containerd.pid = proc.pid ?? -1;
  liveContainerd.add(proc);
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    const done = (): void => {
      exited = true;
      liveContainerd.delete(proc);
      resolve();
    };
    proc.on('exit', done);
    proc.on('error', done);
  });

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (!exited) {
        debug(`${base}: SIGTERM containerd ${containerd.pid}`);
        proc.kill('SIGTERM');
        let grace: NodeJS.Timeout | undefined;
        const late = await Promise.race([exit.then(() => false), new Promise<boolean>((r) => (grace = setTimeout(() => r(true), 20_000)))]);
        clearTimeout(grace);
        if (late && !exited) {
          debug(`${base}: containerd ${containerd.pid} still up after 20 s; SIGKILL`);
          proc.kill('SIGKILL');
          await exit;
        }
      }
      // shims (their -address names our socket), mounts under <base>, then <base> itself (when made here)
      await clearLeftovers(base, created);
    })();
    return stopping;
  };

  try {
    const deadline = Date.now() + timeoutMs;
    let last = 'no socket yet';
    for (;;) {
      if (exited) throw new Error(`containerd exited during start; see ${containerd.logFile}`);
      if (Date.now() > deadline) throw new Error(`containerd did not answer within ${timeoutMs} ms (${last}); see ${containerd.logFile}`);
      if (existsSync(containerd.socket)) {
        try {
          await ctr(['version'], { namespace: null });
          break;
        } catch (e) {
          last = (e as Error).message;
        }
      }
      await sleep(100);
    }
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }
  return { containerd, bins, PATH, ctr, stop, seconds: (Date.now() - t0) / 1000 };
}

/** Starts containerd, then dockerd on it. Stop with stop() (or the root hook's stopAllDaemons). */
export async function startContainerdStore(opts: ContainerdStoreOptions = {}): Promise<ContainerdStoreDaemon> {
  await containerdBinaries();
  const timeoutMs = opts.startTimeoutMs ?? 90_000;

  const created = opts.base === undefined;
  const base = opts.base === undefined ? await mkdtemp('/tmp/ldc-') : path.resolve(opts.base);
  const cdir = path.join(base, 'containerd');
  const dockerRoot = path.join(base, 'docker');
  const tmp = path.join(base, 'tmp');
  for (const d of [cdir, dockerRoot, tmp]) await mkdir(d, { recursive: true });
  const daemonJson = path.join(base, 'daemon.json');
  const features = { ...((opts.daemonJson?.features as object | undefined) ?? {}), 'containerd-snapshotter': true };
  await writeFile(daemonJson, `${JSON.stringify({ ...(opts.daemonJson ?? {}), features })}\n`);

  const { containerd, bins, PATH, ctr, stop: stopContainerd, seconds: containerdSeconds } = await startContainerd(cdir, {
    base, created, namespace: MOBY_NAMESPACE, timeoutMs, tmp,
  });

  // dockerd
  const t1 = Date.now();
  let d: Daemon;
  try {
    d = await startDaemon({
      dataRoot: dockerRoot,
      dockerd: bins.dockerd,
      env: { PATH, TMPDIR: undefined, CONTAINERD_ADDRESS: undefined, CONTAINERD_NAMESPACE: undefined },
      startTimeoutMs: timeoutMs,
      // replaces the harness' default --storage-driver overlay2: on this store it names the snapshotter
      extraArgs: ['--config-file', daemonJson, '--containerd', containerd.socket, '--storage-driver', 'overlayfs'],
      afterStop: stopContainerd,
    });
  } catch (e) {
    // a failed start stopped dockerd and, through afterStop, containerd; when dockerd never
    // started, stop containerd here (it runs once)
    await stopContainerd().catch(() => undefined);
    throw e;
  }
  const dockerdSeconds = (Date.now() - t1) / 1000;
  debug(`${base}: containerd up in ${containerdSeconds} s, dockerd in ${dockerdSeconds} s`);

  return {
    ...d,
    base,
    containerd,
    bins,
    ctr,
    timings: { downloadSeconds: bins.downloadSeconds, containerdSeconds, dockerdSeconds },
  };
}

/** Waits until the process is gone (reaped), 30 s at most. */
export async function waitGone(pid: number, what: string): Promise<void> {
  for (let i = 0; i < 150; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await sleep(200);
  }
  throw new Error(`${what} ${pid} did not exit within 30 s`);
}

/** Stops dockerd, then its containerd, and keeps every file of both roots (to copy or record them). */
export async function stopKeepingFiles(d: ContainerdStoreDaemon): Promise<void> {
  process.kill(d.pid, 'SIGTERM');
  await waitGone(d.pid, 'dockerd');
  process.kill(d.containerd.pid, 'SIGTERM');
  await waitGone(d.containerd.pid, 'containerd');
}
