// The single executable (`npm run package`, issue 15) beside the npm build: `layerdu --version`'s
// wall time (Node's start-up and the module loading every report waits for) and its peak RSS,
// taken in turn with the npm build's; then its report of the fixture beside du, uncached and on
// the layer cache (issue 16's targets for what the package installs). The package comes from test/support/deb-package.ts's cache
// (built once per source, a few minutes the first time).
import { cachedPackage } from '../support/deb-package.js';
import { CLI } from '../support/oracles.js';
import { TARGETS_16, type Check } from './checks.js';
import { againstDu, type DuTarget } from './report-runs.js';
import { interleaved, MiB, type Series } from './measure.js';
import { fmt } from './table.js';

const mib = (s: Series) => (s.maxRss === null ? null : s.maxRss / MiB);

export async function benchSea(runs: number, log: (m: string) => void, fixture?: DuTarget): Promise<Check[]> {
  log('single executable: npm run package (cached per source)');
  const { binary } = await cachedPackage();
  const [npm, sea] = await interleaved(
    [
      { label: 'layerdu --version (npm build)', cmd: process.execPath, args: [CLI, '--version'] },
      { label: 'layerdu --version (single executable)', cmd: binary, args: ['--version'] },
    ],
    runs,
    log,
  );
  const [npmS, seaS] = [npm!.medianMs / 1000, sea!.medianMs / 1000];
  const checks: Check[] = [
    { name: 'single executable --version (wall)', value: seaS, unit: 's', target: '', pass: null, note: `npm build ${fmt(npmS, 's')}` },
    { name: 'single executable --version peak RSS', value: mib(sea!), unit: 'MiB', target: '', pass: null, note: `npm build ${fmt(mib(npm!), 'MiB')}` },
  ];
  if (!fixture) return checks;
  // What the package installs, on the fixture beside du: one bundle, so no module resolution at start.
  const r = await againstDu('layerdu --report (single executable)', runs, fixture, { cached: true, layerdu: [binary] });
  const warm = TARGETS_16.duRatio['300k']!;
  checks.push(
    { name: 'single executable report / du', value: r.ratio, unit: '×', target: `<= ${warm}`, pass: r.ratio <= warm, note: `${fmt(r.report.medianSeconds, 's')} beside du ${fmt(r.du.medianMs / 1000, 's')}; peak RSS ${fmt(r.report.peakRssMiB, 'MiB')}` },
    ...(r.cached
      ? [{ name: 'single executable report on the layer cache / du', value: r.cached.ratio, unit: '×', target: `<= ${TARGETS_16.cachedRatio}`, pass: r.cached.ratio <= TARGETS_16.cachedRatio, note: `${fmt(r.cached.report.medianSeconds, 's')}` }]
      : []),
  );
  return checks;
}
