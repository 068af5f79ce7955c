// Walker processes for the Node walker (node-walk.ts): trees are walked with synchronous system calls
// (much cheaper per file than promises) in child processes, so the main thread keeps answering
// /metrics during a scan. Processes rather than threads because a walker enters each directory
// (chdir), as du does. Bounded: one walk per process at a time, no more processes than cores
// (at most 4).
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { walkChildModule } from '../host/sea.js';
import type { WalkOptions, WalkOutcome } from './node-walk.js';

export interface WalkJob {
  id: number;
  root: string;
  index: boolean;
  opaque: boolean;
  skip: string[];
}

export type WalkReply = { id: number; outcome: WalkOutcome } | { id: number; error: string };

interface Pending {
  job: WalkJob;
  resolve: (o: WalkOutcome) => void;
  reject: (e: Error) => void;
}

class WalkPool {
  private readonly idle: ChildProcess[] = [];
  private readonly busy = new Map<ChildProcess, Pending>();
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private workers = 0;

  constructor(private readonly size: number) {}

  run(root: string, opts: WalkOptions): Promise<WalkOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ job: { id: this.nextId++, root, index: !!opts.index, opaque: opts.opaque ?? !!opts.index, skip: opts.skip ?? [] }, resolve, reject });
      this.pump();
    });
  }

  private spawn(): ChildProcess {
    const w = fork(walkChildModule(new URL('./walk-child.js', import.meta.url)), [], {
      // Typed arrays (the path index) cross intact with the structured-clone serializer.
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      execArgv: [],
    });
    this.workers += 1;
    w.on('message', (reply: WalkReply) => {
      const p = this.busy.get(w);
      this.busy.delete(w);
      if (p) {
        if ('outcome' in reply) p.resolve(reply.outcome);
        else p.reject(new Error(reply.error));
      }
      this.idle.push(w);
      // An idle walker must not keep a one-off `--report` alive.
      this.setRef(w, false);
      this.pump();
    });
    w.once('exit', (code, signal) => {
      this.workers -= 1;
      const i = this.idle.indexOf(w);
      if (i >= 0) this.idle.splice(i, 1);
      const p = this.busy.get(w);
      this.busy.delete(w);
      p?.reject(new Error(`walker process exited (${signal ?? code})`));
      this.pump();
    });
    w.on('error', () => undefined); // 'exit' follows and settles the walk
    return w;
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
      const p = this.queue.shift()!;
      this.setRef(w, true);
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
