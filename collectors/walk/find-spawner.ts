// Starting find from the agent holds its thread while the kernel copies the process for the
// fork, and the more the agent holds the longer: about 0.4 ms a MiB on a virtual machine here,
// 45 ms at 150 MiB, several times a scan, each a scrape's wait. So a small process, forked at
// start while the agent is small (a walker process, walk-child.ts), starts the finds instead.
// Each find writes straight into one end of a unix socket pair whose other end this process
// reads: no byte of its output passes through the spawner. Its stderr and exit come over the
// spawner's IPC channel. Without the spawner (it failed to start, or died) finds start here,
// as a one-off report's always do (walk-tree.ts, startFindsHere).
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { walkChildModule } from '../host/sea.js';
import { direct, type FindChild } from './find-child.js';
import type { WalkOutcome } from './tally.js';
import { ChunkedIndex, type WalkJob, type WalkReply } from './walk-pool.js';

export type { FindChild } from './find-child.js';

/** What the spawner is sent, the client end of the pair with it, and what it answers. */
export type SpawnRequest = { spawn: number; argv: string[] } | { kill: number };
export type SpawnReply = { id: number; stderr: string } | { id: number; exit: number | null; signal: string | null } | { id: number; error: string };

const TOKEN_BYTES = 16;

interface ListedWalkPending {
  index: ChunkedIndex;
  resolve: (o: WalkOutcome | 'too big') => void;
  reject: (e: Error) => void;
}

interface Remote {
  stderr: (text: string) => void;
  exit: (code: number | null, signal: string | null) => void;
  error: (e: Error) => void;
}

class Spawner {
  private readonly remotes = new Map<number, Remote>();
  private readonly walks = new Map<number, ListedWalkPending>();
  /** Server ends not yet claimed, by the token their client wrote. */
  private readonly accepted = new Map<string, (socket: net.Socket) => void>();
  private nextId = 1;
  alive = true;

  get pid(): number | undefined {
    return this.child.pid;
  }

  private constructor(
    private readonly child: ChildProcess,
    private readonly server: net.Server,
    private readonly path: string,
  ) {
    child.on('message', (m: SpawnReply | WalkReply) => {
      const w = this.walks.get(m.id);
      if (w) return void this.walkReply(w, m as WalkReply);
      this.findReply(m as SpawnReply);
    });
    child.once('exit', () => this.fail('the process that starts finds exited'));
    child.on('error', () => undefined); // 'exit' follows
    server.on('connection', (socket) => this.claim(socket));
    server.on('error', () => this.fail('its socket failed'));
  }

  static async start(): Promise<Spawner | null> {
    // An abstract socket (Linux): nothing on disk, where a read-only root allows nothing; its
    // random name, and the token each connection must begin with, keep other processes out.
    const path = `\0layerdu-find-${process.pid}-${randomBytes(16).toString('hex')}`;
    const server = net.createServer();
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(path, () => resolve());
      });
    } catch {
      return null;
    }
    server.unref();
    const child = fork(walkChildModule(new URL('./walk-child.js', import.meta.url)), [], {
      // Typed arrays (a listed walk's index chunks) cross intact with the structured-clone serializer.
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      execArgv: [],
    });
    const s = new Spawner(child, server, path);
    s.idle();
    return s;
  }

  /** Reads a connection's token and hands the connection to whoever waits for it; strangers are cut off. */
  private claim(socket: net.Socket): void {
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => socket.destroy(), 5000);
    timer.unref();
    const onData = (b: Buffer) => {
      got = Buffer.concat([got, b]);
      if (got.length < TOKEN_BYTES) return;
      socket.off('data', onData);
      socket.pause();
      clearTimeout(timer);
      const take = this.accepted.get(got.subarray(0, TOKEN_BYTES).toString('hex'));
      // The client writes its token and nothing else before it is handed over.
      if (!take || got.length > TOKEN_BYTES) return void socket.destroy();
      this.accepted.delete(got.subarray(0, TOKEN_BYTES).toString('hex'));
      take(socket);
    };
    socket.on('data', onData);
    socket.on('error', () => undefined);
  }

  private fail(why: string): void {
    if (!this.alive) return;
    this.alive = false;
    this.server.close();
    for (const [id, r] of this.remotes) {
      this.remotes.delete(id);
      r.error(new Error(`find lost: ${why}`));
    }
    for (const [id, w] of this.walks) {
      this.walks.delete(id);
      w.reject(new Error(`walk lost: ${why}`));
    }
  }

  private findReply(m: SpawnReply): void {
    const r = this.remotes.get(m.id);
    if (!r) return;
    if ('stderr' in m) r.stderr(m.stderr);
    else if ('exit' in m) {
      this.remotes.delete(m.id);
      r.exit(m.exit, m.signal);
    } else {
      this.remotes.delete(m.id);
      r.error(new Error(m.error));
    }
  }

  /**
   * Walks a tree walked every scan in the spawner, which keeps what it listed there for the next
   * time (walk-child.ts, listings.ts): 'too big' when the tree holds more than it remembers.
   */
  walkListed(root: string, opts: { index: boolean; opaque: boolean }, scan: number): Promise<WalkOutcome | 'too big'> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.walks.set(id, { index: new ChunkedIndex(opts.index), resolve, reject });
      this.idle();
      const job: WalkJob = { id, root, index: opts.index, opaque: opts.opaque, skip: [], listed: { scan } };
      this.child.send(job, undefined, {}, (e) => {
        if (!e) return;
        this.walks.delete(id);
        this.idle();
        reject(e);
      });
    });
  }

  private walkReply(w: ListedWalkPending, m: WalkReply): void {
    if ('chunk' in m) return w.index.take(m.chunk);
    this.walks.delete(m.id);
    this.idle();
    if ('error' in m) return w.reject(new Error(m.error));
    if ('tooBig' in m) return w.resolve('too big');
    try {
      w.resolve(w.index.settle(m, 'the spawner'));
    } catch (e) {
      w.reject(e as Error);
    }
  }

  /** Whether the spawner may keep a one-off report alive: only while a find runs. */
  private idle(): void {
    const channel = this.child.channel as { ref(): void; unref(): void } | undefined;
    if (this.remotes.size === 0 && this.walks.size === 0) {
      this.child.unref();
      channel?.unref();
    } else {
      this.child.ref();
      channel?.ref();
    }
  }

  async run(argv: string[]): Promise<FindChild> {
    const id = this.nextId++;
    const token = randomBytes(TOKEN_BYTES);
    const serverEnd = new Promise<net.Socket>((resolve) => this.accepted.set(token.toString('hex'), resolve));
    const client = net.connect(this.path);
    client.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      client.once('error', reject);
      client.once('connect', () => client.write(token, (e) => (e ? reject(e) : resolve())));
    }).catch((e: unknown) => {
      this.accepted.delete(token.toString('hex'));
      throw e;
    });
    const out = await serverEnd;
    let stderrCb: (text: string) => void = () => undefined;
    let errorCb: (e: Error) => void = () => undefined;
    let exit: { code: number | null; signal: string | null } | null = null;
    let ended = false;
    let closeCb: ((code: number | null, signal: string | null) => void) | null = null;
    const maybeClose = () => {
      if (ended && exit && closeCb) {
        const cb = closeCb;
        closeCb = null;
        cb(exit.code, exit.signal);
      }
    };
    out.once('close', () => {
      ended = true;
      maybeClose();
    });
    this.remotes.set(id, {
      stderr: (t) => stderrCb(t),
      exit: (code, signal) => {
        exit = { code, signal };
        this.idle();
        maybeClose();
      },
      error: (e) => {
        // Never started, or lost with its spawner: no more output will come.
        out.destroy();
        exit = { code: null, signal: null };
        this.idle();
        errorCb(e);
        maybeClose();
      },
    });
    this.idle();
    const request: SpawnRequest = { spawn: id, argv };
    // The client end goes to the spawner (and is closed here): find writes into it.
    this.child.send(request, client as never, {}, (e) => e && this.remotes.get(id)?.error(e));
    return {
      stdout: out,
      onStderr: (cb) => (stderrCb = cb),
      onClose: (cb) => {
        closeCb = cb;
        maybeClose();
      },
      onError: (cb) => (errorCb = cb),
      kill: () => void (this.alive && this.child.connected && this.child.send({ kill: id } satisfies SpawnRequest)),
    };
  }
}

let spawner: Promise<Spawner | null> | null = null;
let started: Spawner | null = null;

/**
 * Forks the spawner now (at start, while this process is small); later calls do nothing while
 * it runs, and fork a new one once it has died (the agent asks at every scan).
 */
export function prepareFindSpawner(): void {
  if (spawner && (started === null || started.alive)) return;
  spawner = Spawner.start()
    .then((s) => (started = s))
    .catch(() => null);
}

/** The spawner's process id while it runs (tests, diagnostics). */
export async function findSpawnerPid(): Promise<number | null> {
  const s = await spawner;
  return s?.alive ? (s.pid ?? null) : null;
}

/**
 * A tree walked every scan, walked in the spawner with what it listed there last time; null
 * when there is no spawner (find walks it), 'too big' when the spawner will not remember it.
 */
export async function walkListedInSpawner(root: string, opts: { index: boolean; opaque: boolean }, scan: number): Promise<WalkOutcome | 'too big' | null> {
  const s = await spawner;
  if (!s?.alive) return null;
  try {
    return await s.walkListed(root, opts, scan);
  } catch {
    return null; // lost with the spawner: walked here instead
  }
}

/** Starts find with `argv` (LC_ALL=C), through the spawner when there is one. */
export async function startFind(argv: string[]): Promise<FindChild> {
  const s = await spawner;
  if (s?.alive) {
    try {
      return await s.run(argv);
    } catch {
      // the spawner is going: this find starts here
    }
  }
  return direct(argv);
}
