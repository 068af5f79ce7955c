// The bench's command line.
import * as path from 'node:path';
import { PRESETS } from './fixture.js';

export interface Args {
  files: string;
  runs: number;
  rebuild: boolean;
  buildOnly: boolean;
  base: string;
  store: Store;
}

export type Store = 'overlay2' | 'containerd' | 'both';
const STORES: Store[] = ['overlay2', 'containerd', 'both'];

const USAGE = `usage: npm run bench -- [--files ${Object.keys(PRESETS).join('|')}] [--runs N] [--rebuild] [--build-only] [--root-base DIR] [--store overlay2|containerd|both]
  --files       fixture size: total files of its two big layers (default 300k)
  --runs        timed runs per command after one warm-up run (default 5; the median is reported)
  --rebuild     rebuild the fixture even when its marker says it is current
  --build-only  build (or check) the fixture and stop
  --root-base   where fixtures live (default $LAYERDU_BENCH_ROOT or /var/tmp/layerdu-bench)
  --store       which fixture to build and measure: the overlay2 one, the containerd-store one, or
                both (default); run alone, the other's figures come from results-<files>.json
`;

export function parseArgs(argv: string[]): Args {
  const a: Args = { files: '300k', runs: 5, rebuild: false, buildOnly: false, base: process.env.LAYERDU_BENCH_ROOT || '/var/tmp/layerdu-bench', store: 'both' };
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
    else if (flag === '--store') {
      const v = val() as Store;
      if (!STORES.includes(v)) throw new Error(`--store ${v}: one of ${STORES.join(', ')}`);
      a.store = v;
    }
    else if (flag === '--help' || flag === '-h') {
      process.stdout.write(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument ${flag}`);
  }
  if (!PRESETS[a.files]) throw new Error(`--files ${a.files}: one of ${Object.keys(PRESETS).join(', ')}`);
  if (!Number.isInteger(a.runs) || a.runs < 1) throw new Error('--runs must be a positive integer');
  return a;
}
