// `npm run bench [-- --files 300k|1m] [--runs 3] [--rebuild] [--build-only] [--store overlay2|containerd|both] [--part walk|load|all]`:
// issue 6's numbers, and the containerd store's against them; then issue 14's load part
// (load-run.ts: serving under load, scale), which `--part load` runs alone.
//
// Builds (once; kept in /var/tmp/layerdu-bench/<files>/) a docker root with two image layers of
// many small files and a container that copied some up, then measures on a warm page cache:
// layerdu --report against du, its peak RSS, the agent's first and next scan, /metrics latency
// during a scan and `docker system df -v` (overlay2-bench.ts). The same recipe on Docker's
// containerd image store (<files>-containerd/) gives the report of both roots against du of the
// containerd root (containerd-bench.ts). Prints a table to stdout, progress to stderr, and
// writes the same to test/bench/results-<files>.json.
import './clean-env.js';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import * as path from 'node:path';
import { DOCKER_CLI } from '../support/dockerd.js';
import { CLI, REPO_ROOT } from '../support/oracles.js';
import { parseArgs, type Args } from './args.js';
import type { Check } from './checks.js';
import { benchContainerd, containerdChecks, relativeCheck, type RatioFigures } from './containerd-bench.js';
import { stopDaemonsOn } from './daemon.js';
import { ensureFixture } from './fixture.js';
import { containerdFixtureDirs, ensureContainerdFixture } from './fixture-containerd.js';
import { runLoad } from './load-run.js';
import { childPids, takeLock } from './lock.js';
import { log } from './log.js';
import { haveGnuTime } from './measure.js';
import { benchOverlay2 } from './overlay2-bench.js';
import { runCase } from './writable-2m.js';
import { benchSea } from './sea-bench.js';
import { overlay2Target } from './report-runs.js';
import { containerdResults, gitInfo, hostInfo, readResults, resultsFile, type Results } from './results.js';
import { collectorsTable, table } from './table.js';

async function main(): Promise<number> {
  // `--case NAME`: one case alone, with its own arguments (writable-2m.ts).
  const single = await runCase(process.argv.slice(2));
  if (single !== null) return single;
  const args = parseArgs(process.argv.slice(2));
  if (args.part !== 'walk' && args.part !== 'all') return runLoad(args);
  const code = await walkParts(args);
  // The load part takes its own locks, once the walk parts let go of theirs.
  return args.part === 'all' && !args.buildOnly && !interrupted ? Math.max(code, await runLoad(args)) : code;
}

async function walkParts(args: Args): Promise<number> {
  if (!existsSync(CLI)) throw new Error(`${CLI} missing: build first (npx tsc -p .)`);
  if (!existsSync(DOCKER_CLI)) throw new Error(`${DOCKER_CLI} missing (apt-get install -y docker.io busybox-static)`);
  await mkdir(args.base, { recursive: true });
  const wantOverlay2 = args.store !== 'containerd';
  const wantContainerd = args.store !== 'overlay2';
  const root = path.join(args.base, args.files);
  const cdDir = containerdFixtureDirs(args.base, args.files).dir;
  const locks: string[] = [];
  const roots = [...(wantOverlay2 ? [root] : []), ...(wantContainerd ? [cdDir] : [])];
  const cleanUp = async () => {
    for (const pid of childPids()) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* gone */
      }
    }
    for (const r of roots) await stopDaemonsOn(r, log).catch(() => undefined);
    for (const l of locks) rmSync(l, { force: true });
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      if (interrupted) return;
      log(`${sig}: stopping the bench daemons`);
      interrupted = cleanUp().finally(() => process.exit(130));
    });
  }

  try {
    for (const r of roots) {
      const lock = `${r}.lock`;
      takeLock(lock);
      locks.push(lock);
    }
    const loadBefore = os.loadavg();
    const fixture = wantOverlay2 ? await ensureFixture(root, args.base, args.files, { rebuild: args.rebuild }) : null;
    const cdFixture = wantContainerd ? await ensureContainerdFixture(args.base, args.files, { rebuild: args.rebuild }) : null;
    if (args.buildOnly) return 0;
    haveGnuTime(log);

    const o2 = fixture ? await benchOverlay2(args.files, args.runs, root, fixture) : null;
    const cdLoad = os.loadavg();
    const cd = cdFixture ? await benchContainerd(cdFixture, args.runs) : null;
    // The single executable's start-up beside the npm build's (issue 15).
    const sea = wantOverlay2 ? await benchSea(args.runs, log, overlay2Target(root, 'unix:///nonexistent.sock')) : [];

    // A run of one store keeps the other's part of the results file, and compares against it.
    const prev = readResults(args.files);
    const cdResults = cd ? containerdResults(cd, cdFixture!, args.runs, cdLoad) : (prev?.containerd ?? null);
    const o2Down = o2 ? o2.results.reportApiDown : prev?.reportApiDown;
    const o2Figures: RatioFigures | null = o2Down
      ? { ratio: o2Down.ratioToDu, ratios: o2Down.roundRatios ?? o2Down.samplesSeconds.map((x, i) => x / prev!.du!.samplesSeconds[i]!), ...(o2 ? {} : { from: prev!.generatedAt }) }
      : null;
    const cdFigures: RatioFigures | null = cdResults
      ? { ratio: cdResults.reportApiDown.ratioToDu, ratios: cdResults.reportApiDown.roundRatios, ...(cd ? {} : { from: cdResults.generatedAt }) }
      : null;
    const relative = o2Figures && cdFigures ? [relativeCheck(o2Figures, cdFigures)] : [];
    const fresh: Check[] = [...(o2?.checks ?? []), ...(cd ? containerdChecks(cd) : []), ...sea];
    const kept = (group: Check['group']) => (prev?.checks ?? []).filter((c) => c.group === group);
    const checks = [...(o2 ? o2.checks : kept('overlay2')), ...(cd ? fresh.filter((c) => c.group === 'containerd') : kept('containerd')), ...sea, ...relative];
    const head = { schema: 3 as const, files: args.files, generatedAt: new Date().toISOString(), runs: args.runs, host: hostInfo(loadBefore), git: gitInfo() };
    const results: Results = o2 ? { ...head, ...o2.results, containerd: cdResults, checks } : { ...(prev ?? head), containerd: cdResults, checks };
    const out = resultsFile(args.files);
    writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);

    const load = `${os.cpus().length} CPUs, load ${loadBefore[0]!.toFixed(2)}`;
    if (fixture) {
      const f = fixture;
      process.stdout.write(
        `\nlayerdu bench --files ${args.files}: ${f.overlay2Inodes} inodes, ${(f.overlay2Bytes / 2 ** 30).toFixed(2)} GiB in ${path.join(root, 'overlay2')}` +
          ` (warm cache, median of ${args.runs}; ${load})\n`,
      );
    }
    if (cdFixture) {
      const f = cdFixture;
      process.stdout.write(`${fixture ? '' : '\n'}containerd store: ${f.containerdInodes} inodes, ${(f.containerdBytes / 2 ** 30).toFixed(2)} GiB in ${f.containerdRoot}${fixture ? '' : ` (${load})`}\n`);
    }
    process.stdout.write(`\n${table([...fresh, ...relative])}\n\n`);
    const byStore: Record<string, Record<string, number>> = {};
    if (o2Down?.collectorsSeconds) byStore.overlay2 = o2Down.collectorsSeconds;
    if (cdResults?.reportApiDown.collectorsSeconds) byStore.containerd = cdResults.reportApiDown.collectorsSeconds;
    if (Object.keys(byStore).length) process.stdout.write(`scan collectors, API down (median s; they run concurrently):\n${collectorsTable(byStore)}\n\n`);
    for (const [store, errors] of [['overlay2', o2?.results.reportApiDown.errorsOtherThanApi ?? []], ['containerd', cd?.run.report.errorsOtherThanApi ?? []]] as const) {
      if (errors.length) process.stdout.write(`${store} scan errors:\n${errors.slice(0, 10).map((e) => `  ${e}`).join('\n')}\n\n`);
    }
    process.stdout.write(`written ${path.relative(REPO_ROOT, out)}\n`);
    return [...fresh, ...relative].some((c) => c.pass === false) ? 1 : 0;
  } finally {
    if (!interrupted) for (const l of locks) rmSync(l, { force: true });
  }
}

/** Set by SIGINT/SIGTERM: the clean-up under way, which exits 130 when done. */
let interrupted: Promise<void> | null = null;

main().then(
  async (code) => {
    if (interrupted) await interrupted;
    process.exit(code);
  },
  async (e: unknown) => {
    // A child killed by the clean-up makes main fail: that is no news.
    if (interrupted) await interrupted;
    process.stderr.write(`bench: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(2);
  },
);
