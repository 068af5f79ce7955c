// `node dist/test/bench/cold-run.js [--files 300k] [--runs 3]`: issue 16's part of the bench alone
// (cold-bench.ts) on the fixture `npm run bench` built, written to results-cold-<files>.json.
// `npm run bench` runs the same part inside its overlay2 part.
import './clean-env.js';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from '../support/oracles.js';
import { parseArgs } from './args.js';
import { benchCold, benchStartup, coldChecks, COLD_FINDS } from './cold-bench.js';
import { takeLock } from './lock.js';
import { gitInfo, hostInfo } from './results.js';
import { table } from './table.js';

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const root = path.join(args.base, args.files);
  if (!existsSync(path.join(root, 'overlay2'))) throw new Error(`${root}: no fixture (npm run bench -- --files ${args.files} --build-only)`);
  const lock = `${root}.lock`;
  takeLock(lock);
  try {
    const load = os.loadavg();
    const startup = await benchStartup(Math.max(args.runs, 5));
    const cold = await benchCold(root, args.runs, COLD_FINDS);
    const checks = coldChecks(cold, startup);
    const out = path.join(REPO_ROOT, 'test', 'bench', `results-cold-${args.files}.json`);
    writeFileSync(out, `${JSON.stringify({ files: args.files, generatedAt: new Date().toISOString(), host: hostInfo(load), git: gitInfo(), cold, startup, checks }, null, 2)}\n`);
    process.stdout.write(`\n${table(checks)}\n\nwritten ${path.relative(REPO_ROOT, out)}\n`);
    return checks.some((c) => c.pass === false) ? 1 : 0;
  } finally {
    rmSync(lock, { force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`bench: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(2);
  },
);
