// A private Docker daemon for end-to-end tests: its own data root, socket and exec root under /tmp,
// never the host's /var/lib/docker. Uses /usr/bin/docker (the docker.io 20.10 client, which has
// BuildKit built in) explicitly: /usr/local/bin/docker may be a newer client without buildx.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, readdir, readlink, rm, rmdir, symlink } from 'node:fs/promises';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

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

const DEBUG = !!process.env.LDU_TEST_DEBUG;
function debug(msg: string): void {
  if (DEBUG) process.stderr.write(`[dockerd-harness ${new Date().toISOString()}] ${msg}\n`);
}

export function findExecutable(name: string): string | null {
  const dirs = (process.env.PATH ?? '').split(':').filter(Boolean);
  for (const extra of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    if (!dirs.includes(extra)) dirs.push(extra);
  }
  for (const dir of dirs) {
    const p = path.join(dir, name);
    if (existsSync(p)) return p;
  }
  return null;
}

function tail(file: string, lines = 30): string {
  try {
    const text = readFileSync(file, 'utf8');
    return text.split('\n').slice(-lines - 1).join('\n');
  } catch (e) {
    return `(no daemon log: ${(e as Error).message})`;
  }
}

/** Runs a command, resolving with stdout; rejects with an Error carrying stderr. */
export function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; input?: string | Buffer; cwd?: string; timeoutMs?: number } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs) {
      timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    }
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(new Error(`${cmd} ${args.join(' ')}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (code === 0) resolve(stdout);
      else {
        const e = new Error(
          `${cmd} ${args.join(' ')} failed (${signal ?? `exit ${code}`}): ${stderr.trim() || stdout.trim()}`,
        ) as Error & { stderr: string; stdout: string; code: number | null };
        e.stderr = stderr;
        e.stdout = stdout;
        e.code = code;
        reject(e);
      }
    });
    child.stdin.on('error', () => {
      /* the command may exit before reading all of its input */
    });
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
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

/** Mount points at or below `dir`, deepest first, from /proc/self/mountinfo. */
export function mountsUnder(dir: string, includeSelf = false): string[] {
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const base = dir.replace(/\/+$/, '');
  const found: string[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const raw = fields[4];
    if (!raw) continue;
    // mountinfo escapes space, tab, newline and backslash as \ooo
    const mp = raw.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (mp.startsWith(base + '/') || (includeSelf && mp === base)) found.push(mp);
  }
  return [...new Set(found)].sort((a, b) => b.split('/').length - a.split('/').length || b.length - a.length);
}

/** Processes (other than dockerd) whose command line names this root: its containerd and shims. */
/** The ids of this root's containers (the names under <root>/containers). */
function containerIds(root: string): string[] {
  try {
    return readdirSync(path.join(root, 'containers')).filter((n) => /^[0-9a-f]{64}$/.test(n));
  } catch {
    return [];
  }
}

/** Processes inside this root's containers, found by their cgroup (…/docker/<id>). */
function containerProcesses(ids: string[]): number[] {
  if (ids.length === 0) return [];
  const pids: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const cg = readFileSync(`/proc/${e}/cgroup`, 'utf8');
      if (ids.some((id) => cg.includes(id))) pids.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return pids;
}

/** Removes the (empty) cgroup directories runc left for these containers after a hard stop. */
async function removeCgroups(ids: string[]): Promise<void> {
  let text = '';
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return;
  }
  const mps = text
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => {
      const fstype = f[f.indexOf('-') + 1];
      return fstype === 'cgroup' || fstype === 'cgroup2';
    })
    .map((f) => f[4]!);
  for (const mp of mps) {
    for (const id of ids) {
      for (const dir of [path.join(mp, 'docker', id), path.join(mp, 'system.slice', `docker-${id}.scope`)]) {
        await rmdir(dir).catch(() => undefined);
      }
    }
  }
}

/** Whether `dir` is a mount point whose source is `dir` itself (dockerd's propagation bind). */
function selfBindMounted(dir: string): boolean {
  try {
    return readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .some((line) => {
        const f = line.split(' ');
        return f[4] === dir && f[3] === dir;
      });
  } catch {
    return false;
  }
}

function strayProcesses(root: string): number[] {
  const pids: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return pids;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    if (pid === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const exe = path.basename(cmd[0] ?? '');
      if (!exe.startsWith('containerd') && exe !== 'dockerd') continue;
      if (cmd.some((a) => a === root || a.startsWith(root + '/'))) pids.push(pid);
    } catch {
      /* gone */
    }
  }
  return pids;
}

export async function startDaemon(opts: StartOptions = {}): Promise<Daemon> {
  const dockerd = findExecutable('dockerd');
  if (!dockerd) throw new Error('dockerd not found (apt-get install -y docker.io)');
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
          // dockerd stops its containers and the containerd it started; after a SIGKILL it may not
          // have: kill what is left by id (container processes by cgroup, then containerd and shims).
          const ids = containerIds(root);
          for (let i = 0; i < 25; i++) {
            const procs = containerProcesses(ids);
            if (procs.length === 0) break;
            for (const p of procs) {
              try {
                process.kill(p, 'SIGKILL');
              } catch {
                /* gone */
              }
            }
            await sleep(200);
          }
          for (let i = 0; i < 50; i++) {
            const strays = strayProcesses(root);
            if (strays.length === 0) break;
            for (const p of strays) {
              try {
                process.kill(p, i < 25 ? 'SIGTERM' : 'SIGKILL');
              } catch {
                /* gone */
              }
            }
            await sleep(200);
          }
          debug(`${root}: dockerd exited`);
          // dockerd bind-mounts its data root onto itself (to set propagation) and undoes that on
          // a clean shutdown; after a SIGKILL it stays, so take it too when it is such a bind.
          await removeCgroups(ids);
          for (const mp of mountsUnder(root, created || selfBindMounted(root))) {
            debug(`${root}: umount -l ${mp}`);
            try {
              await run('umount', ['-l', mp]);
            } catch {
              /* already gone, or a parent took it along */
            }
          }
          if (created) {
            for (let i = 0; ; i++) {
              try {
                await rm(root, { recursive: true, force: true });
                break;
              } catch (e) {
                if (i >= 5) throw e;
                await sleep(500);
              }
            }
          }
        } finally {
          live.delete(daemon);
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

/**
 * Imports a base image: a tar of /bin/busybox (the static one) and one symlink per applet in /bin,
 * plus /etc and /tmp. Returns the image id.
 */
export async function makeBaseImage(d: Daemon, tag = 'base:latest'): Promise<string> {
  const busybox = findExecutable('busybox');
  if (!busybox) throw new Error('busybox not found (apt-get install -y busybox-static)');
  const dir = await mkdtemp(path.join(tmpdir(), 'ldu-base-'));
  try {
    const bin = path.join(dir, 'bin');
    await mkdir(bin);
    await mkdir(path.join(dir, 'etc'));
    await mkdir(path.join(dir, 'tmp'));
    await chmod(path.join(dir, 'tmp'), 0o1777);
    let real = busybox;
    try {
      const l = await readlink(busybox);
      real = path.resolve(path.dirname(busybox), l);
    } catch {
      /* not a symlink */
    }
    await copyFile(real, path.join(bin, 'busybox'));
    await chmod(path.join(bin, 'busybox'), 0o755);
    const applets = (await run(busybox, ['--list'])).split('\n').map((s) => s.trim()).filter(Boolean);
    for (const a of applets) {
      if (a === 'busybox' || a.includes('/')) continue;
      await symlink('busybox', path.join(bin, a));
    }
    const tar = await runBuffer('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', dir, '-cf', '-', '.']);
    await d.docker(['import', '-c', 'CMD ["/bin/sh"]', '-', tag], { input: tar });
    const id = (await d.docker(['image', 'inspect', '--format', '{{.Id}}', tag])).trim();
    return id;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function runBuffer(cmd: string, args: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${err.message} ${stderr.toString()}`));
      else resolve(stdout);
    });
  });
}

/** Lists a directory, or [] when it does not exist. */
export async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

/** Reads a small text file, trimmed; null when missing. */
export async function readText(file: string): Promise<string | null> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    return null;
  }
}
