// The containerd-store part of the bench: `du -sB1 <containerd root>` against a full report of
// both roots (the daemons stopped, the API unreachable), interleaved round by round as the
// overlay2 part does; then du of the snapshots' fs/ dirs for the sanity row, and the checks,
// among them the issue's: report/du here costs no more than on overlay2.
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { run } from '../support/dockerd.js';
import { TARGETS, type Check } from './checks.js';
import { SNAPSHOTS, type ContainerdFixtureInfo } from './fixture-containerd.js';
import { log } from './log.js';
import { mad } from './measure.js';
import { againstDu, type AgainstDu, type DuTarget } from './report-runs.js';
import { fmt } from './table.js';

export interface ContainerdMeasured {
  run: AgainstDu;
  /** `du -sB1 -c` of every snapshots/<id>/fs, hardlinks counted once as du does. */
  snapshotsFsBytes: number;
  snapshotDirs: number;
}

export function containerdTarget(fix: ContainerdFixtureInfo): DuTarget {
  return {
    duLabel: 'du -sB1 containerd root',
    duPath: fix.containerdRoot,
    reportArgs: ['--docker-root', fix.dockerRoot, '--containerd-root', fix.containerdRoot, '--docker-host', 'unix:///nonexistent.sock'],
  };
}

export async function benchContainerd(fix: ContainerdFixtureInfo, runs: number): Promise<ContainerdMeasured> {
  const r = await againstDu('layerdu --report (containerd, API down)', runs, containerdTarget(fix));
  const snaps = path.join(fix.containerdRoot, SNAPSHOTS);
  const fsDirs = readdirSync(snaps).map((n) => path.join(snaps, n, 'fs')).filter((d) => existsSync(d));
  const total = (await run('du', ['-sB1', '-c', ...fsDirs])).trim().split('\n').pop()!;
  const snapshotsFsBytes = Number(total.split(/\s/)[0]);
  log(`du of ${fsDirs.length} snapshot fs dirs: ${snapshotsFsBytes} bytes; the report says ${r.report.snapshotReportBytes}`);
  return { run: r, snapshotsFsBytes, snapshotDirs: fsDirs.length };
}

/** One store's report/du: the median and its round-by-round figures. */
export interface RatioFigures {
  ratio: number;
  ratios: number[];
  /** Where the figures come from, when not from this run. */
  from?: string;
}

export function containerdChecks(m: ContainerdMeasured): Check[] {
  const { run: r } = m;
  const rep = r.report;
  const sanity = rep.snapshotReportBytes / m.snapshotsFsBytes - 1;
  const checks: Check[] = [
    { name: 'containerd: du -sB1 containerd root (wall)', value: r.du.medianMs / 1000, unit: 's', target: '', pass: null, note: `${fmt(r.duBytes / 2 ** 30, 'GiB')}` },
    { name: 'containerd: layerdu --report, API down (wall)', value: rep.medianSeconds, unit: 's', target: '', pass: null, note: `scan itself ${fmt(rep.scanSecondsMedian, 's')}` },
    {
      name: 'containerd: report / du',
      value: r.ratio,
      unit: '×',
      target: `<= ${TARGETS.duRatio}`,
      pass: r.ratio <= TARGETS.duRatio,
      note: `median of run-by-run ratios (${r.ratios.map((x) => x.toFixed(2)).join(' ')})`,
    },
    {
      name: 'containerd: report peak RSS (API down)',
      value: rep.peakRssMiB,
      unit: 'MiB',
      target: `<= ${TARGETS.peakRssMiB}`,
      pass: rep.peakRssMiB === null ? false : rep.peakRssMiB <= TARGETS.peakRssMiB,
    },
    {
      name: 'containerd sanity: report snapshot bytes vs du of snapshots/*/fs',
      value: sanity * 100,
      unit: '%',
      target: `within ±${TARGETS.sanityTolerance * 100}%`,
      pass: Math.abs(sanity) <= TARGETS.sanityTolerance && rep.errorsOtherThanApi.length === 0,
      note: rep.errorsOtherThanApi.length
        ? `${rep.errorsOtherThanApi.length} scan errors`
        : `${m.snapshotDirs} snapshot dirs; ${rep.layers} layers, ${rep.containers} containers, blobs ${fmt(rep.disk.imageContent / 2 ** 20, 'MiB')}`,
    },
  ];
  return checks.map((c) => ({ ...c, group: 'containerd' as const }));
}

/**
 * The issue's target: the containerd report costs, relative to du, no more than the overlay2
 * report does. The tolerance is the run-to-run spread of the figures compared: the larger of the
 * two stores' median absolute deviations of their round-by-round ratios. A difference inside it
 * is one that running the bench again moves by as much.
 */
export function relativeCheck(overlay2: RatioFigures, containerd: RatioFigures): Check {
  const tolerance = Math.max(mad(overlay2.ratios), mad(containerd.ratios));
  const diff = containerd.ratio - overlay2.ratio;
  const from = [overlay2.from && `overlay2 from ${overlay2.from}`, containerd.from && `containerd from ${containerd.from}`].filter(Boolean).join('; ');
  return {
    name: 'containerd report/du − overlay2 report/du',
    value: diff,
    unit: '×',
    target: `<= ${tolerance.toFixed(3)} (spread)`,
    pass: diff <= tolerance,
    note: `${containerd.ratio.toFixed(3)} vs ${overlay2.ratio.toFixed(3)}; spread = max MAD of the round ratios${from ? `; ${from}` : ''}`,
    group: 'relative',
  };
}
