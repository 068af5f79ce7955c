// Agent mode: the first scan (every layer walked) against the next scan of the unchanged host
// (committed layers reused), and how /metrics answers while the first scan runs; then the
// agent started again on the layer cache the first one kept, and its first scan.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { get, parseExposition, startAgent, value, type AgentProcess } from '../support/agent-process.js';
import { quantile } from './measure.js';

export interface LatencySample {
  /** ms since the agent was spawned */
  at: number;
  ms: number;
}

export interface AgentResult {
  firstScanSeconds: number;
  secondScanSeconds: number;
  /**
   * The two scans after it: the find spawner's walker code is compiled by V8 as it runs, and the
   * second scan is the first to run it (its first walk was a find); the later ones run it warm.
   */
  laterScansSeconds: number[];
  secondLayersWalked: number;
  secondLayersReused: number;
  firstLayersWalked: number;
  /** /metrics answers whose request started and ended while /healthz said `scanning: true`. */
  duringScan: { samples: number; maxMs: number | null; p99Ms: number | null; p50Ms: number | null };
  /** Every /metrics answer before the first scan finished. */
  allSamples: number;
  /** The span over which /healthz saw the first scan running, ms since spawn. */
  scanningSeen: { from: number; to: number } | null;
  healthPolls: number;
  /** Agent's peak RSS over both scans (VmHWM), bytes; and its RSS after them. */
  peakRss: number | null;
  rssAfter: number | null;
  /** The agent started again on the layer cache its first run kept (`--cache.dir`): its first scan. */
  restart: { firstScanSeconds: number; layersWalked: number; layersReused: number };
}

function procStatus(pid: number, field: string): number | null {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

const LAST_SCAN = /^layerdu_last_scan_timestamp_seconds (\S+)$/m;

export interface AgentBenchOptions {
  dockerRoot: string;
  dockerHost: string;
  log: (m: string) => void;
  /** Give up on a scan after this long. */
  timeoutMs: number;
  intervalMs?: number;
}

export async function benchAgent(opts: AgentBenchOptions): Promise<AgentResult> {
  const cacheDir = mkdtempSync(join(tmpdir(), 'layerdu-bench-agent-cache-'));
  try {
    const result = await firstRun(opts, cacheDir);
    opts.log('agent: started again on its layer cache');
    return { ...result, restart: await restartedScan(opts, cacheDir) };
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

function agentArgs(opts: AgentBenchOptions, cacheDir: string): string[] {
  return ['--docker-root', opts.dockerRoot, '--docker-host', opts.dockerHost, '--scan.schedule', '*/5 * * * * *', '--cache.dir', cacheDir];
}

/** The first scan of an agent started again on the cache `cacheDir` holds (target 3 of issue 16). */
async function restartedScan(opts: AgentBenchOptions, cacheDir: string): Promise<AgentResult['restart']> {
  const agent = await startAgent(agentArgs(opts, cacheDir));
  try {
    const first = parseExposition(await agent.scrapeAfter(0, opts.timeoutMs));
    const r = {
      firstScanSeconds: value(first, 'layerdu_scan_duration_seconds'),
      layersWalked: value(first, 'layerdu_scan_layers_walked'),
      layersReused: value(first, 'layerdu_scan_layers_reused'),
    };
    opts.log(`agent: first scan after the restart ${r.firstScanSeconds.toFixed(3)} s (${r.layersReused} layers from the cache, ${r.layersWalked} walked)`);
    return r;
  } finally {
    await agent.stop();
  }
}

async function firstRun(opts: AgentBenchOptions, cacheDir: string): Promise<Omit<AgentResult, 'restart'>> {
  const interval = opts.intervalMs ?? 20;
  const t0 = performance.now();
  const since = () => performance.now() - t0;
  const agent: AgentProcess = await startAgent(agentArgs(opts, cacheDir));
  try {
    const samples: LatencySample[] = [];
    const health: { start: number; end: number; scanning: boolean }[] = [];
    let firstBody: string | null = null;
    let failure: Error | null = null;
    const deadline = Date.now() + opts.timeoutMs;

    const metricsLoop = async () => {
      while (firstBody === null && failure === null) {
        if (Date.now() > deadline) {
          failure = new Error(`first scan not finished within ${opts.timeoutMs} ms; stderr: ${agent.stderr()}`);
          break;
        }
        if (agent.child.exitCode !== null) {
          failure = new Error(`agent exited ${agent.child.exitCode}: ${agent.stderr()}`);
          break;
        }
        const at = since();
        const r = await get(`${agent.url}/metrics`).catch(() => null);
        if (r?.status === 200) {
          samples.push({ at, ms: r.ms });
          // prom-client shows an unset gauge as 0: a scan finished once the timestamp is set.
          if (Number(LAST_SCAN.exec(r.body)?.[1] ?? 0) > 0) firstBody = r.body;
        }
        await sleep(Math.max(0, interval - (since() - at)));
      }
    };
    const healthLoop = async () => {
      while (firstBody === null && failure === null) {
        const start = since();
        const r = await get(`${agent.url}/healthz`).catch(() => null);
        if (r?.status === 200) {
          const h = JSON.parse(r.body) as { scanning?: boolean };
          health.push({ start, end: since(), scanning: h.scanning === true });
        }
        await sleep(100);
      }
    };
    opts.log('agent: sampling /metrics every 20 ms during the first scan');
    await Promise.all([metricsLoop(), healthLoop()]);
    if (failure) throw failure;
    const first = parseExposition(firstBody!);
    const firstTs = value(first, 'layerdu_last_scan_timestamp_seconds');
    const firstScanSeconds = value(first, 'layerdu_scan_duration_seconds');
    opts.log(`agent: first scan ${firstScanSeconds.toFixed(3)} s; waiting for the next one`);

    const secondBody = await agent.scrapeAfter(firstTs, opts.timeoutMs);
    const second = parseExposition(secondBody);
    const secondScanSeconds = value(second, 'layerdu_scan_duration_seconds');
    opts.log(`agent: second scan ${secondScanSeconds.toFixed(3)} s`);
    const laterScansSeconds: number[] = [];
    let ts = value(second, 'layerdu_last_scan_timestamp_seconds');
    for (let i = 0; i < 2; i++) {
      const later = parseExposition(await agent.scrapeAfter(ts, opts.timeoutMs));
      ts = value(later, 'layerdu_last_scan_timestamp_seconds');
      laterScansSeconds.push(value(later, 'layerdu_scan_duration_seconds'));
    }
    opts.log(`agent: the two scans after it ${laterScansSeconds.map((x) => x.toFixed(3)).join(' s, ')} s`);

    // The first scan runs from spawn until its metrics appear; /healthz says when it was seen.
    const scanning = health.filter((h) => h.scanning);
    // Conservatively: by the end of the first such answer the scan had begun, and at the start of
    // the last one it had not yet ended (the first scan runs without a break from spawn on).
    const scanningSeen = scanning.length ? { from: scanning[0]!.end, to: scanning[scanning.length - 1]!.start } : null;
    const during = scanningSeen ? samples.filter((s) => s.at >= scanningSeen.from && s.at + s.ms <= scanningSeen.to).map((s) => s.ms) : [];
    const pid = agent.child.pid!;
    return {
      firstScanSeconds,
      secondScanSeconds,
      laterScansSeconds,
      firstLayersWalked: value(first, 'layerdu_scan_layers_walked'),
      secondLayersWalked: value(second, 'layerdu_scan_layers_walked'),
      secondLayersReused: value(second, 'layerdu_scan_layers_reused'),
      duringScan: {
        samples: during.length,
        maxMs: during.length ? Math.max(...during) : null,
        p99Ms: during.length ? quantile(during, 0.99) : null,
        p50Ms: during.length ? quantile(during, 0.5) : null,
      },
      allSamples: samples.length,
      scanningSeen,
      healthPolls: health.length,
      peakRss: procStatus(pid, 'VmHWM'),
      rssAfter: procStatus(pid, 'VmRSS'),
    };
  } finally {
    await agent.stop();
  }
}
