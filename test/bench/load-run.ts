// The load part of `npm run bench` (issue 14), also run alone: `npm run bench -- --part load`, or
// `node dist/test/bench/load-run.js [--files 300k] [--runs N]` after `npx tsc -p .`.
// Serving under load on the overlay2 fixture (fixture.ts, its daemon stopped: serving-bench.ts);
// the scale figures of made-up hosts (scale-bench.ts). A table on stdout, everything in
// test/bench/results-load.json; `--part serving` or `--part scale` runs one half and keeps the
// other's figures from the last run.
import './clean-env.js';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVER_LIMITS } from '../../agent/serve/server.js';
import { REPO_ROOT } from '../support/oracles.js';
import { parseArgs, type Args } from './args.js';
import type { Check } from './checks.js';
import { ensureFixture } from './fixture.js';
import { childPids, takeLock } from './lock.js';
import { benchScale, type ScaleResult } from './scale-bench.js';
import { benchServing, type ServingResult } from './serving-bench.js';
import { gitInfo, hostInfo } from './results.js';
import { table } from './table.js';

export const LOAD_TARGETS = {
  p99Ms: 100,
  /** Doubling the host at most this much more metadata time: linear, with room for noise. */
  doublingRatio: 2.5,
  /** The exposition of a host of 1,000 images and 2,000 containers under the default cap. */
  cappedBytes: 4 * 2 ** 20,
  /**
   * A slowloris is cut off at the headers timeout, counted from its first byte (a second after it
   * connects), plus one check interval, with a second of slack; from its connection.
   */
  slowlorisSeconds: (1000 + SERVER_LIMITS.headersTimeoutMs + SERVER_LIMITS.checkIntervalMs) / 1000 + 1,
};

const check = (name: string, value: number | null, unit: string, target: string, pass: boolean | null, note?: string): Check => ({ name, value, unit, target, pass, ...(note ? { note } : {}), group: 'load' });

/** The overlay2 fixture's lock (shared with the walk part) and the made-up hosts'. */
const loadLocks = (args: Args) => [`${path.join(args.base, args.files)}.lock`, path.join(args.base, 'scale.lock')];

function servingChecks(files: string, serving: LoadResults['serving'] & object): Check[] {
  const checks: Check[] = [];
  for (const [label, s] of [[`${files} fixture`, serving.fixture]] as const) {
    const f = s.firstScan;
    checks.push(check(`${label}: /metrics p99, 50 scrapers during the first scan`, f.duringScan.p99Ms, 'ms', `< ${LOAD_TARGETS.p99Ms}`, f.duringScan.p99Ms === null ? null : f.duringScan.p99Ms < LOAD_TARGETS.p99Ms, `p50 ${f.duringScan.p50Ms} ms, max ${f.duringScan.maxMs} ms, ${f.duringScan.samples} answers in ${f.seconds.toFixed(1)} s`));
    const u = s.underSlowloris;
    checks.push(check(`${label}: /metrics p99, 50 scrapers beside 20 slowloris`, u.all.p99Ms, 'ms', `< ${LOAD_TARGETS.p99Ms}`, u.all.p99Ms === null ? null : u.all.p99Ms < LOAD_TARGETS.p99Ms, `p50 ${u.all.p50Ms} ms, max ${u.all.maxMs} ms, ${u.all.samples} answers, ${u.all.failures} failed, ${u.scans} scans in ${u.windowSeconds} s; during scans p99 ${u.duringScans.p99Ms} ms`));
    const c = s.slowloris.closedAfterSeconds;
    checks.push(check(`${label}: slowloris cut off after`, c.max, 's', `<= ${LOAD_TARGETS.slowlorisSeconds}`, c.max <= LOAD_TARGETS.slowlorisSeconds && c.min >= SERVER_LIMITS.headersTimeoutMs / 1000, `min ${c.min} s, median ${c.median} s; headers timeout ${SERVER_LIMITS.headersTimeoutMs / 1000} s`));
    checks.push(check(`${label}: scans still running at a scheduled time (skipped, logged once each)`, s.skipsLogged, '', '', null, `${s.underSlowloris.scans} scans in the window; that none overlaps another is test/unit/scheduler.test.ts's`));
    const b = s.backToBack;
    checks.push(check(`${label}: /metrics p99, 50 back to back (saturation)`, b.p99Ms, 'ms', '', null, `p50 ${b.p50Ms} ms, max ${b.maxMs} ms, ${b.samples} answers in 5 s`));
  }
  return checks;
}

function scaleChecks(scale: ScaleResult): Check[] {
  const checks: Check[] = [];
  scale.sizes.forEach((s, i) => {
    const r = i > 0 ? ` (×${scale.ratios.metadataInScan[i - 1]} the size below; alone ×${scale.ratios.metadataAlone[i - 1]})` : '';
    checks.push(check(`metadata phase, ${s.spec.images} images / ${s.spec.containers} containers`, s.metadataInScan, 's', '', null, `alone ${s.metadataAlone.toFixed(3)} s; scan ${s.scan.toFixed(2)} s${r}`));
  });
  const worst = Math.max(...scale.ratios.metadataInScan, ...scale.ratios.metadataAlone);
  checks.push(check('metadata phase growth per doubling (worst)', worst, '×', `<= ${LOAD_TARGETS.doublingRatio}`, worst <= LOAD_TARGETS.doublingRatio, `in the scan ${scale.ratios.metadataInScan.join(', ')}; alone ${scale.ratios.metadataAlone.join(', ')}`));
  const e = scale.served;
  checks.push(check('/metrics size, 2,000 containers, default cap (500)', +(e.capped.bytes / 2 ** 20).toFixed(3), 'MiB', `<= ${LOAD_TARGETS.cappedBytes / 2 ** 20}`, e.capped.bytes <= LOAD_TARGETS.cappedBytes, `${e.capped.series} series`));
  checks.push(check('/metrics size, 2,000 containers, no cap', +(e.uncapped.bytes / 2 ** 20).toFixed(3), 'MiB', '', null, `${e.uncapped.series} series`));
  for (const [label, l, target] of [
    ['capped, one scraper', e.capped.one, true],
    ['capped, 50 at once', e.capped.fifty, true],
    ['no cap, one scraper', e.uncapped.one, false],
    ['no cap, 50 at once', e.uncapped.fifty, false],
  ] as const) {
    checks.push(check(`scrape p99, 2,000 containers, ${label}`, l.p99Ms, 'ms', target ? `< ${LOAD_TARGETS.p99Ms}` : '', target ? l.p99Ms !== null && l.p99Ms < LOAD_TARGETS.p99Ms : null, `p50 ${l.p50Ms} ms, max ${l.maxMs} ms, ${l.samples} answers`));
  }

  return checks;
}

export interface LoadResults {
  schema: 1;
  generatedAt: string;
  runs: number;
  host: Record<string, unknown>;
  git: ReturnType<typeof gitInfo>;
  limits: typeof SERVER_LIMITS;
  targets: typeof LOAD_TARGETS;
  /** Each half with when it ran: a run of one half keeps the other's from the last run. */
  serving: { generatedAt: string; fixture: ServingResult } | null;
  scale: (ScaleResult & { generatedAt: string }) | null;
  checks: Check[];
}

const RESULTS = path.join(REPO_ROOT, 'test', 'bench', 'results-load.json');

function readLoadResults(): LoadResults | null {
  try {
    return JSON.parse(readFileSync(RESULTS, 'utf8')) as LoadResults;
  } catch {
    return null;
  }
}

export async function runLoad(args: Args): Promise<number> {
  const loadBefore = os.loadavg();
  await mkdir(args.base, { recursive: true });
  const o2Root = path.join(args.base, args.files);
  const locks = loadLocks(args);
  for (const l of locks) takeLock(l);
  // Every size is scanned runs + 1 times, the largest for over a minute on a busy 2-core machine.
  const runs = Math.min(args.runs, 3);
  const prev = readLoadResults();
  const results: LoadResults = {
    schema: 1,
    generatedAt: new Date().toISOString(),
    runs,
    host: hostInfo(loadBefore),
    git: gitInfo(),
    limits: SERVER_LIMITS,
    targets: LOAD_TARGETS,
    serving: prev?.serving ?? null,
    scale: prev?.scale ?? null,
    checks: [],
  };
  // Written after each half, so that a later failure keeps what was measured.
  const save = () => {
    results.checks = [...(results.serving ? servingChecks(args.files, results.serving) : []), ...(results.scale ? scaleChecks(results.scale) : [])];
    results.host = hostInfo(loadBefore);
    writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
  };
  try {
    if (args.part !== 'scale') {
      await ensureFixture(o2Root, args.base, args.files, { rebuild: args.rebuild });
      results.serving = { generatedAt: new Date().toISOString(), fixture: await benchServing({ root: o2Root }) };
      save();
    }
    if (args.part !== 'serving') {
      results.scale = { generatedAt: new Date().toISOString(), ...(await benchScale(args.base, runs)) };
      save();
    }
    const kept = args.part === 'serving' ? ' (scale: from the last run)' : args.part === 'scale' ? ' (serving: from the last run)' : '';
    process.stdout.write(`\nlayerdu bench, load${kept} (${os.cpus().length} CPUs, load ${loadBefore[0]!.toFixed(2)}):\n${table(results.checks)}\n\nwritten ${path.relative(REPO_ROOT, RESULTS)}\n`);
    return results.checks.some((c) => c.pass === false) ? 1 : 0;
  } finally {
    for (const l of locks) rmSync(l, { force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const args = parseArgs(process.argv.slice(2));
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      for (const pid of childPids()) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          /* gone */
        }
      }
      for (const l of loadLocks(args)) rmSync(l, { force: true });
      process.exit(130);
    });
  }
  runLoad(args).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`bench: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exit(2);
    },
  );
}
