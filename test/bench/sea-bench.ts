// The single executable (`npm run package`, issue 15) beside the npm build: `layerdu --version`'s
// wall time (Node's start-up and the module loading every report waits for) and its peak RSS,
// taken in turn with the npm build's. The package comes from test/support/deb-package.ts's cache
// (built once per source, a few minutes the first time).
import { cachedPackage } from '../support/deb-package.js';
import { CLI } from '../support/oracles.js';
import type { Check } from './checks.js';
import { interleaved, MiB, type Series } from './measure.js';
import { fmt } from './table.js';

const mib = (s: Series) => (s.maxRss === null ? null : s.maxRss / MiB);

export async function benchSea(runs: number, log: (m: string) => void): Promise<Check[]> {
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
  return [
    { name: 'single executable --version (wall)', value: seaS, unit: 's', target: '', pass: null, note: `npm build ${fmt(npmS, 's')}` },
    { name: 'single executable --version peak RSS', value: mib(sea!), unit: 'MiB', target: '', pass: null, note: `npm build ${fmt(mib(npm!), 'MiB')}` },
  ];
}
