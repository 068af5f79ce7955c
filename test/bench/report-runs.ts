// layerdu --report timed beside du: the runs, what their JSON says, and their ratio to du.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CLI } from '../support/oracles.js';
import { log } from './log.js';
import { interleaved, median, MiB, pairedRatio, roundRatios, type Series, type Timed } from './measure.js';

interface ReportJson {
  errors: { source: string; path?: string | null; message: string }[];
  layers: unknown[];
  images: unknown[];
  containers: { copiedUp: { disk: number } }[];
  orphans: { kind: string; disk: number }[];
  totals: { disk: { imageLayers: number; imageContent: number; containerLayers: number; orphans: number; buildCache: number; total: number } };
  scan: { durationSeconds: number; layersWalked: number; layersReused: number; collectors: { name: string; durationSeconds: number }[] };
}

function parseReport(t: Timed): ReportJson {
  try {
    return JSON.parse(t.stdout) as ReportJson;
  } catch (e) {
    throw new Error(`layerdu --report --format json printed no JSON: ${(e as Error).message}; stderr: ${t.stderr.slice(-1000)}`);
  }
}

export interface ReportSeries {
  medianSeconds: number;
  samplesSeconds: number[];
  /** Peak RSS: the largest of the timed runs, and their median, MiB. */
  peakRssMiB: number | null;
  medianRssMiB: number | null;
  /** The scan's own duration (from the JSON), median seconds: the rest is Node start-up and output. */
  scanSecondsMedian: number;
  errorsOtherThanApi: string[];
  overlay2ReportBytes: number;
  /** containerd store: image and container layers plus orphaned snapshot dirs (what lives in snapshots/). */
  snapshotReportBytes: number;
  /** The last run's disk totals by category. */
  disk: ReportJson['totals']['disk'];
  /** Each collector's own duration, median seconds over the timed runs (they run concurrently). */
  collectorsSeconds: Record<string, number>;
  layers: number;
  images: number;
  containers: number;
}

function summarize(s: Series, parsed: ReportJson[]): ReportSeries {
  const last = parsed[parsed.length - 1]!;
  const d = last.totals.disk;
  return {
    medianSeconds: s.medianMs / 1000,
    samplesSeconds: s.runs.map((r) => r.ms / 1000),
    peakRssMiB: s.maxRss === null ? null : s.maxRss / MiB,
    medianRssMiB: s.medianRss === null ? null : s.medianRss / MiB,
    scanSecondsMedian: median(parsed.map((p) => p.scan.durationSeconds)),
    errorsOtherThanApi: [...new Set(last.errors.filter((e) => e.source !== 'docker-api').map((e) => `${e.source}: ${e.path ?? ''}: ${e.message}`))],
    overlay2ReportBytes: d.imageLayers + d.containerLayers + d.orphans + d.buildCache,
    snapshotReportBytes: d.imageLayers + d.containerLayers + last.orphans.filter((o) => o.kind === 'snapshot').reduce((s, o) => s + o.disk, 0),
    disk: d,
    collectorsSeconds: Object.fromEntries(
      last.scan.collectors.map((c) => [c.name, median(parsed.map((p) => p.scan.collectors.find((x) => x.name === c.name)?.durationSeconds ?? 0))]),
    ),
    layers: last.layers.length,
    images: last.images.length,
    containers: last.containers.length,
  };
}

export interface AgainstDu {
  du: Series;
  duBytes: number;
  report: ReportSeries;
  ratio: number;
  /** report/du of each round. */
  ratios: number[];
  /** With `cached`: the report with a persisted layer cache its warm-up run filled, in the same rounds. */
  cached?: { report: ReportSeries; ratio: number; ratios: number[] };
}

export interface DuTarget {
  duLabel: string;
  /** What du -sB1 measures. */
  duPath: string;
  /** layerdu's arguments after `--report --format json`. */
  reportArgs: string[];
}

/** The overlay2 fixture: du of <root>/overlay2 against the report of the docker root. */
export function overlay2Target(root: string, host: string): DuTarget {
  return { duLabel: 'du -sB1 overlay2', duPath: path.join(root, 'overlay2'), reportArgs: ['--docker-root', root, '--docker-host', host] };
}

/**
 * du and a report run in turn (measure.ts, interleaved): their ratio round by round. The report
 * (`layerdu`: the npm build unless given) runs with `--no-cache`; with `cached`, a third run in each round reads the persisted layer
 * cache (`--cache.dir`, a fresh directory that the warm-up round fills).
 */
export async function againstDu(label: string, runs: number, target: DuTarget, opts: { cached?: boolean; layerdu?: string[] } = {}): Promise<AgainstDu> {
  // The npm build by default; the single executable (sea-bench.ts) is a command of its own.
  const [cmd, ...lead] = opts.layerdu ?? [process.execPath, CLI];
  const parsed: ReportJson[] = [];
  const parsedCached: ReportJson[] = [];
  let duBytes = 0;
  const cacheDir = opts.cached ? mkdtempSync(path.join(tmpdir(), 'layerdu-bench-cache-')) : null;
  try {
    const report = (extra: string[], into: ReportJson[], l: string) => ({
      label: l,
      cmd: cmd!,
      args: [...lead, '--report', '--format', 'json', ...target.reportArgs, ...extra],
      check: (t: Timed) => void into.push(parseReport(t)),
    });
    const [du, uncached, cached] = await interleaved(
      [
        { label: target.duLabel, cmd: 'du', args: ['-sB1', target.duPath], check: (t) => void (duBytes = Number(t.stdout.split(/\s/)[0])) },
        report(['--no-cache'], parsed, label),
        ...(cacheDir ? [report(['--cache.dir', cacheDir], parsedCached, `${label}, layer cache`)] : []),
      ],
      runs,
      log,
    );
    return {
      du: du!,
      duBytes,
      report: summarize(uncached!, parsed.slice(1)),
      ratio: pairedRatio(uncached!, du!),
      ratios: roundRatios(uncached!, du!),
      ...(cached ? { cached: { report: summarize(cached, parsedCached.slice(1)), ratio: pairedRatio(cached, du!), ratios: roundRatios(cached, du!) } } : {}),
    };
  } finally {
    if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
  }
}
