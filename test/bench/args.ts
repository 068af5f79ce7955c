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
  /** walk: issue 6's parts (the walk against du, the agent, the containerd store); load: issue 14's (load-run.ts), or one half of it (serving, scale); all: walk and load. */
  part: Part;
}

export type Part = 'walk' | 'load' | 'serving' | 'scale' | 'all';
const PARTS: Part[] = ['walk', 'load', 'serving', 'scale', 'all'];

export type Store = 'overlay2' | 'containerd' | 'both';
const STORES: Store[] = ['overlay2', 'containerd', 'both'];

const USAGE = `usage: npm run bench -- [--files ${Object.keys(PRESETS).join('|')}] [--runs N] [--rebuild] [--build-only] [--root-base DIR] [--store overlay2|containerd|both] [--part walk|load|serving|scale|all]
  --files       fixture size: total files of its two big layers (default 300k)
  --runs        timed runs per command after one warm-up run (default 5; the median is reported)
  --rebuild     rebuild the fixture even when its marker says it is current
  --build-only  build (or check) the fixture and stop
  --root-base   where fixtures live (default $LAYERDU_BENCH_ROOT or /var/tmp/layerdu-bench)
  --store       which fixture to build and measure: the overlay2 one, the containerd-store one, or
                both (default); run alone, the other's figures come from results-<files>.json
  --part        walk: the walk against du, the agent and the stores (results-<files>.json); load:
                serving under load and scale (results-load.json), or serving or scale alone
                (the other's figures kept from the last run); all (default): walk and load
`;

export function parseArgs(argv: string[]): Args {
  const a: Args = { files: '300k', runs: 5, rebuild: false, buildOnly: false, base: process.env.LAYERDU_BENCH_ROOT || '/var/tmp/layerdu-bench', store: 'both', part: 'all' };
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
    else if (flag === '--part') {
      const v = val() as Part;
      if (!PARTS.includes(v)) throw new Error(`--part ${v}: one of ${PARTS.join(', ')}`);
      a.part = v;
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
