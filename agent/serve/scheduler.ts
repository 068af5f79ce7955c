// When scans run: once at start, then on the cron schedule; never two at once, and after a
// failed scan the next ones wait out a capped back-off instead of hammering a sick host.
import cron from 'node-cron';
import { log } from './log.js';

export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

/** Delay before the next attempt after `failures` consecutive failures (0 = none). */
export function backoffDelay(failures: number, p: BackoffPolicy): number {
  if (failures <= 0) return 0;
  return Math.min(p.capMs, p.baseMs * 2 ** Math.min(failures - 1, 30));
}

export function validateSchedule(expr: string): void {
  const fields = expr.trim().split(/\s+/).length;
  if ((fields !== 5 && fields !== 6) || !cron.validate(expr)) {
    throw new Error(`--scan.schedule ${JSON.stringify(expr)}: not a 5- or 6-field cron expression`);
  }
}

/** Calls `tick` at each time of the schedule until stopped (node-cron; tests drive their own). */
export type Ticker = (schedule: string, tick: () => void) => { stop(): unknown };

const cronTicker: Ticker = (schedule, tick) => cron.schedule(schedule, tick);

export class ScanLoop {
  private task: ReturnType<Ticker> | null = null;
  private running: Promise<void> | null = null;
  private failures = 0;
  private notBefore = 0;
  private overlapLogged = false;

  constructor(
    private readonly schedule: string,
    private readonly runScan: () => Promise<void>,
    private readonly backoff: BackoffPolicy = { baseMs: 30_000, capMs: 30 * 60_000 },
    private readonly now: () => number = Date.now,
    private readonly ticker: Ticker = cronTicker,
  ) {}

  start(): void {
    this.task = this.ticker(this.schedule, () => void this.trigger('schedule'));
    void this.trigger('start');
  }

  /** Starts a scan unless one is running or the back-off holds; resolves when that scan ends. */
  trigger(reason: string): Promise<void> {
    if (this.running) {
      // A scan longer than the schedule interval: say so once, not at every tick.
      if (!this.overlapLogged) log('warn', 'scan still running at the next scheduled time; skipping until it ends', { reason });
      this.overlapLogged = true;
      return this.running;
    }
    if (this.now() < this.notBefore) return Promise.resolve();
    this.running = this.runScan()
      .then(() => {
        this.failures = 0;
        this.notBefore = 0;
        this.overlapLogged = false;
      })
      .catch((e: unknown) => {
        this.failures += 1;
        const delay = backoffDelay(this.failures, this.backoff);
        this.notBefore = this.now() + delay;
        log('error', 'scan failed', { err: (e as Error)?.message ?? String(e), failures: this.failures, retry_after_s: delay / 1000 });
      })
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  get busy(): boolean {
    return this.running !== null;
  }

  async stop(): Promise<void> {
    await this.task?.stop();
    this.task = null;
  }
}
