// Serving under load (issue 14): the agent on a bench root with the API unreachable, scanning on
// a schedule of a few seconds; 50 scrapers scrape all at once every second. Phase 1: from the
// start until the first scan (every layer walked) ends. Phase 2: the same 50 beside 20 slowloris
// clients (a header byte a second) for a window that spans scheduled scans: when the server cuts
// each slowloris off, and what the scrapers saw meanwhile. Phase 3: the 50 back to back for 5 s
// (saturation). Also how often a scan was still running at a scheduled time (the agent skips the
// tick and logs it once a scan).
import { startAgent } from '../support/agent-process.js';
import { slowloris } from '../support/http-clients.js';
import { log } from './log.js';
import { median } from './measure.js';
import { duringScans, latency, pollHealth, scrapeWhile, type Health, type Latency } from './scrapers.js';

export interface ServingResult {
  root: string;
  schedule: string;
  scrapers: number;
  firstScan: { seconds: number; all: Latency; duringScan: Latency };
  underSlowloris: { windowSeconds: number; all: Latency; duringScans: Latency; scans: number };
  /** The same scrapers back to back for 5 s after (saturation, not a load Prometheus makes). */
  backToBack: Latency;
  everyMs: number;
  slowloris: { clients: number; byteEveryMs: number; closedAfterSeconds: { min: number; median: number; max: number }; bytesSentMax: number };
  metricsBytes: number;
  skipsLogged: number;
  agentArgs: string[];
}

/** The scrapers' beat: all 50 at once, every second. */
export const SCRAPE_EVERY_MS = 1000;

export async function benchServing(opts: { root: string; args?: string[]; scrapers?: number; slowClients?: number; windowMs?: number; schedule?: string }): Promise<ServingResult> {
  const n = opts.scrapers ?? 50;
  const every = SCRAPE_EVERY_MS;
  const slowClients = opts.slowClients ?? 20;
  const windowMs = opts.windowMs ?? 15_000;
  const schedule = opts.schedule ?? '*/3 * * * * *';
  const agentArgs = ['--docker-root', opts.root, '--docker-host', 'unix:///nonexistent.sock', '--scan.schedule', schedule, ...(opts.args ?? [])];
  const t0 = performance.now();
  const agent = await startAgent(agentArgs);
  try {
    const health: Health[] = [];
    let done = false;
    const healthLoop = pollHealth(agent.url, t0, 50, () => done, health);
    const firstDone = () => health.some((h) => h.lastScan !== null) || agent.child.exitCode !== null;
    // The scan starts before the server listens (agent.ts): the scrapers start once it does.
    while (health.length === 0 && agent.child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
    log(`serving: ${n} scrapers during the first scan of ${opts.root}`);
    const first = await scrapeWhile(`${agent.url}/metrics`, n, t0, () => firstDone(), every);
    if (agent.child.exitCode !== null) throw new Error(`agent exited: ${agent.stderr()}`);
    const firstEnd = health.find((h) => h.lastScan !== null)!.at;
    const scansBefore = (agent.stderr().match(/msg="scan finished"/g) ?? []).length;

    log(`serving: ${n} scrapers and ${slowClients} slowloris clients for ${windowMs / 1000} s (scans ${schedule})`);
    const t1 = performance.now() - t0;
    const slow = Promise.all(Array.from({ length: slowClients }, () => slowloris(Number(new URL(agent.url).port), { byteEveryMs: 1000 })));
    const second = await scrapeWhile(`${agent.url}/metrics`, n, t0, () => performance.now() - t0 - t1 > windowMs, every);
    // Back to back, no pause: what the server gives when it does nothing but answer (the scans go on).
    const t2 = performance.now() - t0;
    const flood = await scrapeWhile(`${agent.url}/metrics`, n, t0, () => performance.now() - t0 - t2 > 5000);
    const ends = await slow;
    done = true;
    await healthLoop;
    const body = await fetch(`${agent.url}/metrics`).then((r) => r.text());
    const stderr = agent.stderr();
    const scans = (stderr.match(/msg="scan finished"/g) ?? []).length - scansBefore;
    const cut = ends.map((e) => e.closedAfterMs / 1000);
    return {
      root: opts.root,
      schedule,
      scrapers: n,
      firstScan: { seconds: firstEnd / 1000, all: latency(first), duringScan: latency(duringScans(first, health)) },
      underSlowloris: { windowSeconds: windowMs / 1000, all: latency(second), duringScans: latency(duringScans(second, health)), scans },
      backToBack: latency(flood),
      everyMs: every,
      slowloris: {
        clients: slowClients,
        byteEveryMs: 1000,
        closedAfterSeconds: { min: +Math.min(...cut).toFixed(2), median: +median(cut).toFixed(2), max: +Math.max(...cut).toFixed(2) },
        bytesSentMax: Math.max(...ends.map((e) => e.bytesSent)),
      },
      metricsBytes: Buffer.byteLength(body),
      skipsLogged: (stderr.match(/scan still running at the next scheduled time/g) ?? []).length,
      agentArgs,
    };
  } finally {
    await agent.stop();
  }
}
