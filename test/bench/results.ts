// test/bench/results-<files>.json: every figure of a run, with the host and the commit it ran on.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from '../support/oracles.js';
import type { AgentResult } from './agent-bench.js';
import type { Check } from './checks.js';
import type { FixtureInfo } from './fixture.js';
import type { Growth } from './growth.js';
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
  };
}

export interface Results {
  schema: 2;
  files: string;
  generatedAt: string;
  runs: number;
  host: Record<string, unknown>;
  git: ReturnType<typeof gitInfo>;
  fixture: FixtureInfo & { root: string };
  du: { medianSeconds: number; samplesSeconds: number[]; bytes: number; peakRssMiB: number | null };
  /** ratioToDu: the median of report/du, run by run (du ran beside each report run). */
  reportApiDown: ReportSeries & { ratioToDu: number };
  startup: { medianSeconds: number; samplesSeconds: number[]; peakRssMiB: number | null };
  reportApiUp: ReportSeries & { ratioToDu: number; duBesideMedianSeconds: number };
  dockerSystemDf: { medianSeconds: number; samplesSeconds: number[] };
  agent: AgentResult;
  growth: Growth | null;
  checks: Check[];
}
