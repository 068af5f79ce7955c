// Walker threads: trees are walked with synchronous system calls (much cheaper per file than
// promises) on a few worker threads, so the main thread keeps answering /metrics during a scan.
// Bounded: one walk per thread at a time, and no more threads than cores (at most 4).
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ScanError } from './facts.js';
import { walkTreeSync, type WalkOptions, type WalkOutcome } from './walk.js';

export interface WalkJob {
  id: number;
  root: string;
  index: boolean;
  source: string;
}

export type WalkReply = { id: number; outcome: WalkOutcome } | { id: number; error: string };

interface Pending {
  job: WalkJob;
  resolve: (o: WalkOutcome) => void;
  reject: (e: Error) => void;
}

class WalkPool {
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, Pending>();
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private workers = 0;

  constructor(private readonly size: number) {}

  run(root: string, opts: WalkOptions): Promise<WalkOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ job: { id: this.nextId++, root, index: !!opts.index, source: opts.source }, resolve, reject });
      this.pump();
    });
  }

  private spawn(): Worker {
    const w = new Worker(new URL('./walk-worker.js', import.meta.url));
    this.workers += 1;
    w.on('message', (reply: WalkReply) => {
      const p = this.busy.get(w);
      this.busy.delete(w);
      if (p) {
        if ('outcome' in reply) p.resolve(reply.outcome);
        else p.reject(new Error(reply.error));
      }
      this.idle.push(w);
      // An idle thread must not keep a one-off `--report` alive.
      w.unref();
      this.pump();
    });
    w.on('error', (e) => {
      const p = this.busy.get(w);
      this.busy.delete(w);
      this.workers -= 1;
      p?.reject(e);
      this.pump();
    });
    return w;
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const w = this.idle.pop() ?? (this.workers < this.size ? this.spawn() : null);
      if (!w) return;
      const p = this.queue.shift()!;
      w.ref();
      this.busy.set(w, p);
      w.postMessage(p.job);
    }
  }
}

let pool: WalkPool | null = null;

export function walkerThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

/**
 * Walks a tree on a walker thread; problems go to `errors` and the walk always completes. With a
 * custom `fs` (tests) the walk runs inline.
 */
export async function walkTree(root: string, opts: WalkOptions & { errors: ScanError[] }): Promise<Omit<WalkOutcome, 'errors'>> {
  let outcome: WalkOutcome;
  if (opts.fs) {
    outcome = walkTreeSync(root, opts);
  } else {
    pool ??= new WalkPool(walkerThreads());
    try {
      outcome = await pool.run(root, opts);
    } catch (e) {
      opts.errors.push({ source: opts.source, path: root, message: `walker thread failed: ${(e as Error).message}` });
      return { size: { disk: 0, apparent: 0, entries: 0 }, index: null };
    }
  }
  opts.errors.push(...outcome.errors);
  return { size: outcome.size, index: outcome.index };
}
