// Walker processes for the Node walker (node-walk.ts): trees are walked with synchronous system calls
// (much cheaper per file than promises) in child processes, so the main thread keeps answering
// /metrics during a scan. Processes rather than threads because a walker enters each directory
// (chdir), as du does. Bounded: one walk per process at a time, no more processes than cores
// (at most 4).
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { walkChildModule } from '../host/sea.js';
import { collectGarbage } from './collect-garbage.js';
import { PathIndexBuilder, type IndexChunk, type IndexTail } from '../lib/path-index-builder.js';
import type { WalkOptions, WalkOutcome } from './node-walk.js';

export interface WalkJob {
  id: number;
  root: string;
  index: boolean;
  opaque: boolean;
  skip: string[];
  /**
   * A tree walked every scan (the find spawner's jobs, find-spawner.ts): walked with what this
   * process listed in it the last time (listings.ts), `scan` the agent's scan number.
   */
  listed?: { scan: number };
}

/**
 * What a walker process sends for a job: its index's chunks as they fill, in order, then one
 * reply, the outcome (its index null: `tail` ends the chunks) or an error.
 */
export type WalkReply =
  | { id: number; chunk: IndexChunk }
  /** `grown`: the process is much bigger than it started (a big walk's garbage): it should not be kept. */
  | { id: number; outcome: WalkOutcome; tail: IndexTail | null; grown: boolean }
  | { id: number; error: string; grown: boolean }
  /** A listed walk given up: the tree holds more than is remembered (find walks it). */
  | { id: number; tooBig: true; grown: boolean };

interface Pending {
  job: WalkJob;
  resolve: (o: WalkOutcome) => void;
  reject: (e: Error) => void;
  /** The index as its chunks arrive. */
  index?: ChunkedIndex | null;
}

/**
 * A walk's index as its chunks arrive from a walker process (this pool's, or the find
 * spawner's listed walks), put together when its reply comes.
 */
export class ChunkedIndex {
  private builder: PathIndexBuilder | null;
  /** A chunk that could not be taken: the walk fails with this when its reply comes. */
  private broken: Error | null = null;

  constructor(private readonly indexing: boolean) {
    this.builder = indexing ? new PathIndexBuilder() : null;
  }

  /** Whether chunks are still taken (an indexing walk none of whose chunks failed). */
  get taking(): boolean {
    return this.builder !== null;
  }

  take(chunk: IndexChunk): void {
    if (!this.builder) return;
    try {
      this.builder.append(chunk);
    } catch (e) {
      this.broken = e as Error;
      this.builder = null;
    }
  }

  /** The outcome of a reply, its index put together from the chunks that came before it; `from` names the sender. */
  settle(reply: Extract<WalkReply, { outcome: unknown }>, from: string): WalkOutcome {
    if (this.broken) throw this.broken;
    if (this.indexing !== (reply.tail !== null)) throw new Error(`${from} replied without the index asked for`);
    return { ...reply.outcome, index: this.builder && reply.tail ? this.builder.finish(reply.tail, collectGarbage) : null };
  }
}

/**
 * A walker process makes a few short-lived objects per entry (a name's Buffer, its Stats) and
 * keeps almost none: a young generation of 1 MiB semi-spaces (V8's default grows to 16) keeps it
 * about 80 MiB on a 2M-entry tree instead of 145, at no cost in time. By NODE_OPTIONS, which the
 * single executable also reads (there, arguments are the application's). A V8 flag the
 * executable was not built with makes it refuse its code cache, with a warning on stderr at each
 * start ("Code cache data rejected"): the walker compiles its code instead, and says nothing.
 */
const WALKER_HEAP = '--max-semi-space-size=1 --no-warnings';

/**
 * A walker process with nothing to do after a walk leaves this long after it. The walks of a
 * scan come close together; between scans, or while the agent analyses what the walks found
 * (its biggest moment), an idle process would hold its 45 MiB or more for nothing.
 */
const IDLE_MS = 250;

class WalkPool {
  private readonly idle: ChildProcess[] = [];
  private readonly busy = new Map<ChildProcess, Pending>();
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private workers = 0;
  private readonly idleTimers = new Map<ChildProcess, NodeJS.Timeout>();
  /** Told to leave, not yet gone: no longer counted among the workers. */
  private readonly leaving = new Set<ChildProcess>();

  constructor(private readonly size: number) {}

  run(root: string, opts: WalkOptions): Promise<WalkOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ job: { id: this.nextId++, root, index: !!opts.index, opaque: opts.opaque ?? !!opts.index, skip: opts.skip ?? [] }, resolve, reject });
      this.pump();
    });
  }

  private spawn(): ChildProcess {
    const w = fork(walkChildModule(new URL('./walk-child.js', import.meta.url)), [], {
      // Typed arrays (the path index's chunks) cross intact with the structured-clone serializer.
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      execArgv: [],
      env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} ${WALKER_HEAP}`.trim() },
    });
    this.workers += 1;
    w.on('message', (reply: WalkReply) => {
      const p = this.busy.get(w);
      if ('chunk' in reply) {
        if (!p || p.job.id !== reply.id || !p.index?.taking) return;
        p.index.take(reply.chunk);
        // The message the chunk came in (its columns are copied out): young, a minor collection frees it.
        collectGarbage('minor');
        return;
      }
      this.busy.delete(w);
      let settled = false;
      let wait: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(wait);
        if (settled || !p) return;
        settled = true;
        if ('error' in reply) p.reject(new Error(reply.error));
        else if ('tooBig' in reply) p.reject(new Error('walker process gave up a listed walk it was not given'));
        else {
          try {
            p.resolve(p.index!.settle(reply, 'walker process'));
          } catch (e) {
            p.reject(e as Error);
          }
        }
        p.index = null;
      };
      if (reply.grown) {
        // Its memory is given back before the index is put together (the agent's biggest moment),
        // not beside it: the walk settles once the process has gone (or a second on). Until then
        // the process keeps this one alive, as a walk in progress does.
        this.retire(w);
        w.once('exit', done);
        wait = setTimeout(done, 1000);
      } else {
        done();
        // An idle walker must not keep a one-off `--report` alive.
        this.setRef(w, false);
        this.idle.push(w);
        const timer = setTimeout(() => this.retire(w), IDLE_MS);
        timer.unref();
        this.idleTimers.set(w, timer);
      }
      this.pump();
    });
    w.once('exit', (code, signal) => {
      if (!this.leaving.delete(w)) this.workers -= 1;
      const i = this.idle.indexOf(w);
      if (i >= 0) this.idle.splice(i, 1);
      clearTimeout(this.idleTimers.get(w));
      this.idleTimers.delete(w);
      const p = this.busy.get(w);
      this.busy.delete(w);
      p?.reject(new Error(`walker process exited (${signal ?? code})`));
      this.pump();
    });
    w.on('error', () => undefined); // 'exit' follows and settles the walk
    return w;
  }

  /** An idle walker leaves (its channel closed, it exits); a new one is started when needed. */
  private retire(w: ChildProcess): void {
    clearTimeout(this.idleTimers.get(w));
    this.idleTimers.delete(w);
    const i = this.idle.indexOf(w);
    if (i >= 0) this.idle.splice(i, 1);
    if (this.leaving.has(w) || this.busy.has(w)) return;
    this.leaving.add(w);
    this.workers -= 1;
    if (w.connected) w.disconnect();
  }

  private setRef(w: ChildProcess, on: boolean): void {
    const channel = w.channel as { ref(): void; unref(): void } | undefined;
    if (on) {
      w.ref();
      channel?.ref();
    } else {
      w.unref();
      channel?.unref();
    }
  }

  warm(): void {
    while (this.workers < this.size) {
      const w = this.spawn();
      this.idle.push(w);
      this.setRef(w, false);
    }
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const w = this.idle.pop() ?? (this.workers < this.size ? this.spawn() : null);
      if (!w) return;
      clearTimeout(this.idleTimers.get(w));
      this.idleTimers.delete(w);
      const p = this.queue.shift()!;
      this.setRef(w, true);
      p.index = new ChunkedIndex(p.job.index);
      this.busy.set(w, p);
      w.send(p.job);
    }
  }
}

let pool: WalkPool | null = null;

export function walkerCount(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

/** Starts the walker processes ahead of the first walk, so their start-up overlaps other work. */
export function warmWalkers(): void {
  pool ??= new WalkPool(walkerCount());
  pool.warm();
}

/** Walks a tree in a walker process; fails only when the process does. */
export function walkInPool(root: string, opts: WalkOptions): Promise<WalkOutcome> {
  pool ??= new WalkPool(walkerCount());
  return pool.run(root, opts);
}
