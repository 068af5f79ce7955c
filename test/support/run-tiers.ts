// `npm test`: the three tiers, each in its own mocha with its own config, in order: unit (no root,
// no host tools), then ensure-deps, then integration (root and host tools, no daemon) and e2e
// (private daemons). Every tier runs even when an earlier one failed, so that one run shows every
// failure; the exit code is 1 when any tier (or ensure-deps) failed. `node run-tiers.js unit e2e`
// runs only the tiers named. A test file outside the three tier directories fails the run: no
// config would ever pick it up.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is compiled to dist/test/support/run-tiers.js). */
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const TIERS = ['unit', 'integration', 'e2e'] as const;
type Tier = (typeof TIERS)[number];
/** The tiers that need ensure-deps (host tools, dockerd) to have run first. */
const NEEDS_DEPS: ReadonlySet<Tier> = new Set(['integration', 'e2e']);
const MOCHA = path.join(REPO_ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js');

/** Test sources (*.test.ts under test/) that lie in no tier directory. */
function strayTests(): string[] {
  const out: string[] = [];
  const visit = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (dir === path.join(REPO_ROOT, 'test') && (TIERS as readonly string[]).includes(e.name)) continue;
        visit(p);
      } else if (e.name.endsWith('.test.ts')) {
        out.push(path.relative(REPO_ROOT, p));
      }
    }
  };
  visit(path.join(REPO_ROOT, 'test'));
  return out.sort();
}

function run(what: string, argv: string[]): boolean {
  process.stderr.write(`\n== ${what}\n`);
  const r = spawnSync(process.execPath, argv, { cwd: REPO_ROOT, stdio: 'inherit' });
  if (r.error) process.stderr.write(`${what}: ${r.error.message}\n`);
  return r.status === 0;
}

function main(): number {
  const asked = process.argv.slice(2);
  const unknown = asked.filter((a) => !(TIERS as readonly string[]).includes(a));
  if (unknown.length > 0) {
    process.stderr.write(`run-tiers: unknown tier ${unknown.join(', ')} (tiers: ${TIERS.join(', ')})\n`);
    return 2;
  }
  const tiers = TIERS.filter((t) => asked.length === 0 || asked.includes(t));
  const failed: string[] = [];
  const stray = strayTests();
  if (stray.length > 0) {
    process.stderr.write(`run-tiers: test files outside test/{${TIERS.join(',')}} never run: ${stray.join(', ')}\n`);
    failed.push('stray test files');
  }
  let deps: boolean | null = null;
  for (const tier of tiers) {
    if (NEEDS_DEPS.has(tier)) {
      if (deps === null) {
        deps = run('ensure-deps', [path.join(REPO_ROOT, 'dist', 'test', 'support', 'ensure-deps.js')]);
        if (!deps) failed.push('ensure-deps');
      }
      if (!deps) {
        process.stderr.write(`== ${tier}: not run, ensure-deps failed\n`);
        failed.push(tier);
        continue;
      }
    }
    if (!run(`${tier} tests`, [MOCHA, '--config', path.join(REPO_ROOT, `.mocharc.${tier}.json`)])) failed.push(tier);
  }
  if (failed.length > 0) process.stderr.write(`\nrun-tiers: failed: ${failed.join(', ')}\n`);
  return failed.length > 0 ? 1 : 0;
}

process.exitCode = main();
