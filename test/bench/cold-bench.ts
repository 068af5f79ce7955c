// Issue 16's part of the bench: the walk on a cold page cache, and the report's fixed cost.
//
// Cold: before every run of du and of each report the page cache is dropped (`sync`, then
// `echo 3 > /proc/sys/vm/drop_caches`: the whole machine's, so only here, never in npm test), and
// the commands are taken in turn, round by round, as measure.ts's interleaved does. The report
// runs with the finds its device rule chooses (--walk.concurrency 0) and, to choose that rule,
// with fixed counts beside it. Start-up: `layerdu --version` and a report of an empty docker root
// (the fixed cost of every report: Node, the modules, the host's facts, rendering), wall and CPU.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import { CLI } from '../support/oracles.js';
import type { Check } from './checks.js';
import { log } from './log.js';
import { mad, median } from './measure.js';
import { fmt } from './table.js';

export const COLD_TARGET = 0.8;

/** The fixed finds in flight measured beside the device rule's choice. */
export const COLD_FINDS = [1, 2, 3, 8];

/** One run: wall seconds, and CPU seconds (user + system of the command and its children). */
export interface Run {
  wall: number;
  cpu: number;
}

/** Runs a command under GNU time for its CPU; its output is thrown away, its exit code checked. */
function timed(cmd: string, args: string[]): Promise<Run> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ldu-cold-'));
  const out = path.join(dir, 'time');
  const start = performance.now();
  return new Promise<Run>((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', '%U %S', '-o', out, cmd, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => void (stderr += s));
    child.on('error', reject);
    child.on('close', (code) => {
      const wall = (performance.now() - start) / 1000;
      const last = readFileSync(out, 'utf8').trim().split('\n').pop() ?? '';
      rmSync(dir, { recursive: true, force: true });
      if (code !== 0) return reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr.slice(-1000)}`));
      const [u, s] = last.split(' ').map(Number);
      resolve({ wall, cpu: (u ?? 0) + (s ?? 0) });
    });
  });
}

/** Drops the page cache, dentries and inodes (root only); false when this machine does not let us. */
export function dropCaches(): Promise<boolean> {
  return new Promise((resolve) => {
    const sync = spawn('sync', [], { stdio: 'ignore' });
    sync.on('error', () => resolve(false));
    sync.on('close', () => {
      try {
        writeFileSync('/proc/sys/vm/drop_caches', '3\n');
        resolve(true);
      } catch {
        resolve(false);
      }
    });
  });
}

export interface ColdSpec {
  label: string;
  cmd: string;
  args: string[];
}

export interface ColdSeries {
  label: string;
  wall: number[];
  cpu: number[];
  medianWall: number;
  medianCpu: number;
}

const summary = (label: string, runs: Run[]): ColdSeries => ({
  label,
  wall: runs.map((r) => r.wall),
  cpu: runs.map((r) => r.cpu),
  medianWall: median(runs.map((r) => r.wall)),
  medianCpu: median(runs.map((r) => r.cpu)),
});

/** `rounds` rounds of every spec in turn, the cache dropped before each run (no warm-up: a cold run needs none). */
export async function coldRounds(specs: ColdSpec[], rounds: number): Promise<ColdSeries[] | null> {
  const runs: Run[][] = specs.map(() => []);
  for (let i = 1; i <= rounds; i++) {
    for (const [k, s] of specs.entries()) {
      if (!(await dropCaches())) return null;
      const r = await timed(s.cmd, s.args);
      log(`cold ${s.label}: round ${i}/${rounds} ${r.wall.toFixed(3)} s (CPU ${r.cpu.toFixed(2)} s, load ${loadavg()[0]!.toFixed(1)})`);
      runs[k]!.push(r);
    }
  }
  return specs.map((s, k) => summary(s.label, runs[k]!));
}

/** Warm rounds in turn after one warm-up each (the start-up figures). */
export async function warmRounds(specs: ColdSpec[], rounds: number): Promise<ColdSeries[]> {
  const runs: Run[][] = specs.map(() => []);
  for (let i = 0; i <= rounds; i++) {
    for (const [k, s] of specs.entries()) {
      const r = await timed(s.cmd, s.args);
      if (i > 0) runs[k]!.push(r);
    }
  }
  for (const [k, s] of specs.entries()) log(`${s.label}: median ${median(runs[k]!.map((r) => r.wall)).toFixed(3)} s wall, ${median(runs[k]!.map((r) => r.cpu)).toFixed(3)} s CPU`);
  return specs.map((s, k) => summary(s.label, runs[k]!));
}

export interface ColdResults {
  rounds: number;
  cores: number;
  /** The device rule's choice on this host's device, as the report's JSON names it. */
  device: { name: string | null; type: string } | null;
  du: ColdSeries;
  /** The report with the device's rule (--walk.concurrency 0). */
  report: ColdSeries;
  ratio: number;
  roundRatios: number[];
  /** The report with fixed finds in flight, and each one's ratio to du round by round. */
  byFinds: Array<{ finds: number; series: ColdSeries; ratio: number }>;
  loadavg: number[];
}

export interface StartupResults {
  rounds: number;
  node: ColdSeries;
  version: ColdSeries;
  emptyReport: ColdSeries;
  loadavg: number[];
}

/** Cold: du of overlay2 and the report of the docker root, and the report at each count of `finds`. */
export async function benchCold(root: string, rounds: number, finds: number[]): Promise<ColdResults | null> {
  const report = (n: number): ColdSpec => ({
    label: n === 0 ? 'layerdu --report (device rule)' : `layerdu --report --walk.concurrency ${n}`,
    cmd: process.execPath,
    args: [CLI, '--report', '--format', 'json', '--docker-root', root, '--docker-host', 'unix:///nonexistent.sock', '--no-cache', '--walk.concurrency', String(n)],
  });
  const specs = [{ label: 'du -sB1 overlay2', cmd: 'du', args: ['-sB1', path.join(root, 'overlay2')] }, report(0), ...finds.map(report)];
  const load = loadavg();
  const all = await coldRounds(specs, rounds);
  if (!all) return null;
  const [du, rule, ...fixed] = all as [ColdSeries, ColdSeries, ...ColdSeries[]];
  const ratios = (s: ColdSeries) => s.wall.map((w, i) => w / du.wall[i]!);
  return {
    rounds,
    cores: availableParallelism(),
    device: deviceOf(root),
    du,
    report: rule,
    ratio: median(ratios(rule)),
    roundRatios: ratios(rule),
    byFinds: fixed.map((series, i) => ({ finds: finds[i]!, series, ratio: median(ratios(series)) })),
    loadavg: load,
  };
}

/** What the report says of the device under `root` (its JSON's `host`), from one warm run. */
function deviceOf(root: string): { name: string | null; type: string } | null {
  const r = spawnSync(process.execPath, [CLI, '--report', '--format', 'json', '--docker-root', root, '--docker-host', 'unix:///nonexistent.sock'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  try {
    const host = (JSON.parse(r.stdout) as { host?: { device: { name: string | null; type: string } } }).host;
    return host ? { name: host.device.name, type: host.device.type } : null;
  } catch {
    return null;
  }
}

/** Start-up: bare Node, `layerdu --version` and a report of an empty docker root, in turn. */
export async function benchStartup(rounds: number): Promise<StartupResults> {
  const empty = mkdtempSync(path.join(tmpdir(), 'ldu-empty-root-'));
  try {
    const load = loadavg();
    const [node, version, emptyReport] = (await warmRounds(
      [
        { label: 'node -e 0', cmd: process.execPath, args: ['-e', '0'] },
        { label: 'layerdu --version', cmd: process.execPath, args: [CLI, '--version'] },
        { label: 'layerdu --report (empty docker root)', cmd: process.execPath, args: [CLI, '--report', '--docker-root', empty, '--docker-host', 'unix:///nonexistent.sock', '--no-cache'] },
      ],
      rounds,
    )) as [ColdSeries, ColdSeries, ColdSeries];
    return { rounds, node, version, emptyReport, loadavg: load };
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
}

export function coldChecks(cold: ColdResults | null, startup: StartupResults): Check[] {
  const checks: Check[] = [];
  if (!cold) {
    checks.push({ name: 'cold report / cold du', value: null, unit: '×', target: `<= ${COLD_TARGET}`, pass: null, note: 'not measured: cannot drop the page cache here (root only)' });
  } else {
    const spread = mad(cold.roundRatios);
    checks.push(
      { name: 'cold du -sB1 overlay2 (wall)', value: cold.du.medianWall, unit: 's', target: '', pass: null, note: `median of ${cold.rounds}, cache dropped before each run` },
      { name: 'cold layerdu --report (wall)', value: cold.report.medianWall, unit: 's', target: '', pass: null, note: `device ${cold.device?.name ?? '?'} (${cold.device?.type ?? '?'}), ${cold.cores} cores` },
      { name: 'cold report / cold du', value: cold.ratio, unit: '×', target: `<= ${COLD_TARGET}`, pass: cold.ratio <= COLD_TARGET, note: `median of run-by-run ratios (spread ±${spread.toFixed(2)})` },
      ...cold.byFinds.map((f) => ({ name: `cold report / du, ${f.finds} find${f.finds === 1 ? '' : 's'} in flight`, value: f.ratio, unit: '×', target: '', pass: null, note: `report ${fmt(f.series.medianWall, 's')}` })),
    );
  }
  checks.push(
    { name: 'start-up: node -e 0 (wall)', value: startup.node.medianWall, unit: 's', target: '', pass: null, note: `CPU ${fmt(startup.node.medianCpu, 's')}` },
    { name: 'start-up: layerdu --version (wall)', value: startup.version.medianWall, unit: 's', target: '', pass: null, note: `CPU ${fmt(startup.version.medianCpu, 's')}` },
    { name: 'start-up: report of an empty root (wall)', value: startup.emptyReport.medianWall, unit: 's', target: '', pass: null, note: `CPU ${fmt(startup.emptyReport.medianCpu, 's')}: the fixed cost` },
  );
  return checks.map((c) => ({ ...c, group: 'overlay2' as const }));
}
