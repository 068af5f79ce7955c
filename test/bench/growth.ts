// How the report's peak RSS grows with the file count: this run against the smaller preset's
// committed results (1m against 300k).
import { existsSync, readFileSync } from 'node:fs';
import type { FixtureInfo } from './fixture.js';
import { log } from './log.js';
import { MiB, type Series } from './measure.js';
import type { ReportSeries } from './report-runs.js';
import { resultsFile, type Results } from './results.js';

export interface Growth {
  from: string;
  filesRatio: number;
  rssRatio: number;
  exponent: number;
  /** The same above Node's own start-up RSS (`layerdu --version`), which does not grow. */
  exponentAboveStartup: number | null;
  /** Added peak RSS per added inode, bytes. */
  marginalBytesPerFile: number;
  peakRssMiB: { [files: string]: number };
}

/** null without a smaller preset, or without its results file and a peak RSS in it. */
export function growthFromSmaller(files: string, fixture: FixtureInfo, reportDown: ReportSeries, startup: Series): Growth | null {
  let growth: Growth | null = null;
  const smaller = files === '1m' ? '300k' : null;
  const smallerFile = smaller ? resultsFile(smaller) : null;
  if (smallerFile && existsSync(smallerFile) && reportDown.peakRssMiB !== null) {
    const prev = JSON.parse(readFileSync(smallerFile, 'utf8')) as Results;
    const prevRss = prev.reportApiDown?.peakRssMiB;
    const prevInodes = prev.fixture?.overlay2Inodes;
    if (prevRss && prevInodes) {
      const filesRatio = fixture.overlay2Inodes / prevInodes;
      const rssRatio = reportDown.peakRssMiB / prevRss;
      const base = startup.medianRss === null ? null : startup.medianRss / MiB;
      growth = {
        from: smaller!,
        filesRatio,
        rssRatio,
        exponent: Math.log(rssRatio) / Math.log(filesRatio),
        exponentAboveStartup: base !== null && prevRss > base ? Math.log((reportDown.peakRssMiB - base) / (prevRss - base)) / Math.log(filesRatio) : null,
        marginalBytesPerFile: ((reportDown.peakRssMiB - prevRss) * MiB) / (fixture.overlay2Inodes - prevInodes),
        peakRssMiB: { [smaller!]: prevRss, [files]: reportDown.peakRssMiB },
      };
    }
  } else if (smaller) {
    log(`no ${smallerFile} with a peak RSS: run \`npm run bench -- --files ${smaller}\` first for the growth comparison`);
  }
  return growth;
}
