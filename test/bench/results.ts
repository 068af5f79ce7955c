// test/bench/results-<files>.json: every figure of a run, with the host and the commit it ran on.
import { droppedEnv } from './clean-env.js';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from '../support/oracles.js';
import type { AgentResult } from './agent-bench.js';
import type { Check } from './checks.js';
import type { ColdResults, StartupResults } from './cold-bench.js';
import type { ContainerdMeasured } from './containerd-bench.js';
import type { ContainerdFixtureInfo } from './fixture-containerd.js';
import type { FixtureInfo } from './fixture.js';
import type { Growth } from './growth.js';
import { MiB } from './measure.js';
import type { ReportSeries } from './report-runs.js';

export function resultsFile(files: string): string {
  return path.join(REPO_ROOT, 'test', 'bench', `results-${files}.json`);
}

export function gitInfo(): { commit: string | null; dirty: string[] } {
  const g = (args: string[]) => spawnSync('git', ['-C', REPO_ROOT, ...args], { encoding: 'utf8' });
  const head = g(['rev-parse', '--short', 'HEAD']);
  const st = g(['status', '--porcelain', '--', 'agent', 'collectors']);
  return {
    commit: head.status === 0 ? head.stdout.trim() : null,
    dirty: st.status === 0 ? st.stdout.split('\n').filter(Boolean).map((l) => l.slice(3)) : [],
  };
}

/** The machine, and its load before the run and now. */
export function hostInfo(loadBefore: number[]): Record<string, unknown> {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? null,
    memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    kernel: os.release(),
    node: process.version,
    loadavgBefore: loadBefore.map((x) => +x.toFixed(2)),
    loadavgAfter: os.loadavg().map((x) => +x.toFixed(2)),
    envDropped: droppedEnv,
  };
}

/** The overlay2 part (schema 2's fields, kept at the top level). */
export interface Overlay2Results {
  fixture: FixtureInfo & { root: string };
  du: { medianSeconds: number; samplesSeconds: number[]; bytes: number; peakRssMiB: number | null };
  /** ratioToDu: the median of report/du, run by run (du ran beside each report run): roundRatios. */
  reportApiDown: ReportSeries & { ratioToDu: number; roundRatios?: number[] };
  /** Issue 16: the same report reading the persisted layer cache, in the same rounds as reportApiDown. */
  reportCached?: ReportSeries & { ratioToDu: number; roundRatios: number[] };
  startup: { medianSeconds: number; samplesSeconds: number[]; peakRssMiB: number | null };
  reportApiUp: ReportSeries & { ratioToDu: number; duBesideMedianSeconds: number };
  dockerSystemDf: { medianSeconds: number; samplesSeconds: number[] };
  agent: AgentResult;
  growth: Growth | null;
  /** Issue 16: du and the report on a cold page cache (null: the cache could not be dropped). */
  cold?: ColdResults | null;
  /** Issue 16: bare Node, --version and a report of an empty docker root, wall and CPU. */
  fixedCost?: StartupResults;
}

/** The containerd-store part, with its own time, host and commit (it may run alone: --store). */
export interface ContainerdResults {
  generatedAt: string;
  runs: number;
  host: Record<string, unknown>;
  git: ReturnType<typeof gitInfo>;
  fixture: ContainerdFixtureInfo;
  /** du -sB1 of the containerd root. */
  du: { medianSeconds: number; samplesSeconds: number[]; bytes: number; peakRssMiB: number | null };
  reportApiDown: ReportSeries & { ratioToDu: number; roundRatios: number[] };
  /** du -sB1 -c of every snapshots/<id>/fs, against reportApiDown.snapshotReportBytes. */
  snapshotsFsBytes: number;
  snapshotDirs: number;
}

/**
 * The top level (generatedAt, host, git and the overlay2 fields, absent until that part ran)
 * describes the overlay2 part's run; `containerd` its own. A run of one store (--store) keeps the
 * other's part of the file as it was.
 */
export type Results = {
  schema: 3;
  files: string;
  generatedAt: string;
  runs: number;
  host: Record<string, unknown>;
  git: ReturnType<typeof gitInfo>;
  containerd: ContainerdResults | null;
  checks: Check[];
} & Partial<Overlay2Results>;

/** An earlier results file (schema 2 or 3), or null. */
export function readResults(files: string): Results | null {
  try {
    const r = JSON.parse(readFileSync(resultsFile(files), 'utf8')) as Omit<Results, 'schema'> & { schema: number };
    return { ...r, schema: 3, containerd: r.containerd ?? null, checks: r.checks.map((c) => ({ ...c, group: c.group ?? 'overlay2' })) };
  } catch {
    return null;
  }
}

/** containerdResults from what benchContainerd measured. */
export function containerdResults(m: ContainerdMeasured, fixture: ContainerdFixtureInfo, runs: number, loadBefore: number[]): ContainerdResults {
  const { du, duBytes, report, ratio, ratios } = m.run;
  return {
    generatedAt: new Date().toISOString(),
    runs,
    host: hostInfo(loadBefore),
    git: gitInfo(),
    fixture,
    du: { medianSeconds: du.medianMs / 1000, samplesSeconds: du.runs.map((r) => r.ms / 1000), bytes: duBytes, peakRssMiB: du.maxRss === null ? null : du.maxRss / MiB },
    reportApiDown: { ...report, ratioToDu: ratio, roundRatios: ratios },
    snapshotsFsBytes: m.snapshotsFsBytes,
    snapshotDirs: m.snapshotDirs,
  };
}
