// The bench's command line.
import * as path from 'node:path';
import { PRESETS } from './fixture.js';

export interface Args {
  files: string;
  runs: number;
  rebuild: boolean;
  buildOnly: boolean;
  base: string;
}

const USAGE = `usage: npm run bench -- [--files ${Object.keys(PRESETS).join('|')}] [--runs N] [--rebuild] [--build-only] [--root-base DIR]
  --files       fixture size: total files of its two big layers (default 300k)
  --runs        timed runs per command after one warm-up run (default 5; the median is reported)
  --rebuild     rebuild the fixture even when its marker says it is current
  --build-only  build (or check) the fixture and stop
  --root-base   where fixtures live (default $LAYERDU_BENCH_ROOT or /var/tmp/layerdu-bench)
`;

export function parseArgs(argv: string[]): Args {
  const a: Args = { files: '300k', runs: 5, rebuild: false, buildOnly: false, base: process.env.LAYERDU_BENCH_ROOT || '/var/tmp/layerdu-bench' };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const val = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--files') a.files = val().toLowerCase();
    else if (flag === '--runs') a.runs = Number(val());
    else if (flag === '--rebuild') a.rebuild = true;
    else if (flag === '--build-only') a.buildOnly = true;
    else if (flag === '--root-base') a.base = path.resolve(val());
    else if (flag === '--help' || flag === '-h') {
      process.stdout.write(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument ${flag}`);
  }
  if (!PRESETS[a.files]) throw new Error(`--files ${a.files}: one of ${Object.keys(PRESETS).join(', ')}`);
  if (!Number.isInteger(a.runs) || a.runs < 1) throw new Error('--runs must be a positive integer');
  return a;
}
