// layerdu --report timed beside du: the runs, what their JSON says, and their ratio to du.
import * as path from 'node:path';
import { CLI } from '../support/oracles.js';
import { log } from './log.js';
import { interleaved, median, MiB, pairedRatio, type Series, type Timed } from './measure.js';

interface ReportJson {
  errors: { source: string; path?: string | null; message: string }[];
  layers: unknown[];
  images: unknown[];
  containers: { copiedUp: { disk: number } }[];
  totals: { disk: { imageLayers: number; containerLayers: number; orphans: number; buildCache: number; total: number } };
  scan: { durationSeconds: number; layersWalked: number; layersReused: number };
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
}

/** du of overlay2 and a report run in turn (measure.ts, interleaved): their ratio round by round. */
export async function againstDu(label: string, runs: number, root: string, host: string): Promise<AgainstDu> {
  const parsed: ReportJson[] = [];
  let duBytes = 0;
  const [du, report] = await interleaved(
    [
      { label: 'du -sB1 overlay2', cmd: 'du', args: ['-sB1', path.join(root, 'overlay2')], check: (t) => void (duBytes = Number(t.stdout.split(/\s/)[0])) },
      {
        label,
        cmd: process.execPath,
        args: [CLI, '--report', '--format', 'json', '--docker-root', root, '--docker-host', host],
        check: (t) => void parsed.push(parseReport(t)),
      },
    ],
    runs,
    log,
  );
  return { du: du!, duBytes, report: summarize(report!, parsed.slice(1)), ratio: pairedRatio(report!, du!) };
}
