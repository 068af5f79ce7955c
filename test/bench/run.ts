// `npm run bench [-- --files 300k|1m] [--runs 3] [--rebuild] [--build-only]`: issue 6's numbers.
//
// Builds (once; kept in /var/tmp/layerdu-bench/<files>/) a docker root with two image layers of
// many small files and a container that copied some up, then measures on a warm page cache:
// layerdu --report against du, its peak RSS, the agent's first and next scan, /metrics latency
// during a scan and `docker system df -v`. Prints a table to stdout, progress to stderr, and
// writes the same to test/bench/results-<files>.json.
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import * as path from 'node:path';
import { DOCKER_CLI, type Daemon } from '../support/dockerd.js';
import { CLI, REPO_ROOT } from '../support/oracles.js';
import { benchAgent } from './agent-bench.js';
import { parseArgs } from './args.js';
import { checksFor } from './checks.js';
import { startBenchDaemon, stopBenchDaemon, stopDaemonsOn } from './daemon.js';
import { ensureFixture } from './fixture.js';
import { growthFromSmaller } from './growth.js';
import { childPids, takeLock } from './lock.js';
import { log } from './log.js';
import { haveGnuTime, MiB, series } from './measure.js';
import { againstDu } from './report-runs.js';
import { gitInfo, hostInfo, resultsFile, type Results } from './results.js';
import { table } from './table.js';

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (!existsSync(CLI)) throw new Error(`${CLI} missing: build first (npx tsc -p .)`);
  if (!existsSync(DOCKER_CLI)) throw new Error(`${DOCKER_CLI} missing (apt-get install -y docker.io busybox-static)`);
  await mkdir(args.base, { recursive: true });
  const root = path.join(args.base, args.files);
  const lock = path.join(args.base, `${args.files}.lock`);
  takeLock(lock);

  let daemon: Daemon | null = null;
  const cleanUp = async () => {
    for (const pid of childPids()) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* gone */
      }
    }
    await stopDaemonsOn(root, log).catch(() => undefined);
    rmSync(lock, { force: true });
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      if (interrupted) return;
      log(`${sig}: stopping the bench daemon`);
      interrupted = cleanUp().finally(() => process.exit(130));
    });
  }

  try {
    const loadBefore = os.loadavg();
    const fixture = await ensureFixture(root, args.base, args.files, { rebuild: args.rebuild });
    if (args.buildOnly) return 0;
    haveGnuTime(log);
    const overlay2 = path.join(root, 'overlay2');

    // 1 and 2: the disk walk alone, the daemon down, each report run beside a du run.
    const down = await againstDu('layerdu --report (API down)', args.runs, root, 'unix:///nonexistent.sock');
    const reportDown = down.report;
    // The fixed cost in every report run: Node loading the CLI and its modules.
    const startup = await series('layerdu --version (start-up)', args.runs, process.execPath, [CLI, '--version'], { log });

    // 3, 4 and 5: the daemon up on the same root.
    log('starting dockerd on the fixture root');
    daemon = await startBenchDaemon(root);
    const up = await againstDu('layerdu --report (API up)', args.runs, root, daemon.host);
    const reportUp = up.report;
    const dockerEnv: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: daemon.host, DOCKER_CLI_HINTS: 'false' };
    delete dockerEnv.DOCKER_CONTEXT;
    const df = await series('docker system df -v', args.runs, DOCKER_CLI, ['system', 'df', '-v'], { log, env: dockerEnv });
    const agent = await benchAgent({
      dockerRoot: root,
      dockerHost: daemon.host,
      log,
      timeoutMs: Math.max(180_000, reportUp.medianSeconds * 1000 * 10),
    });
    await stopBenchDaemon(daemon, log);
    daemon = null;

    // The memory growth against the smaller preset's results, when there are some.
    const growth = growthFromSmaller(args.files, fixture, reportDown, startup);
    const checks = checksFor({ files: args.files, down, up, startup, df, agent, growth });
    const { du, duBytes } = down;

    const results: Results = {
      schema: 2,
      files: args.files,
      generatedAt: new Date().toISOString(),
      runs: args.runs,
      host: hostInfo(loadBefore),
      git: gitInfo(),
      fixture: { ...fixture, root },
      du: { medianSeconds: du.medianMs / 1000, samplesSeconds: du.runs.map((r) => r.ms / 1000), bytes: duBytes, peakRssMiB: du.maxRss === null ? null : du.maxRss / MiB },
      reportApiDown: { ...reportDown, ratioToDu: down.ratio },
      startup: { medianSeconds: startup.medianMs / 1000, samplesSeconds: startup.runs.map((r) => r.ms / 1000), peakRssMiB: startup.maxRss === null ? null : startup.maxRss / MiB },
      reportApiUp: { ...reportUp, ratioToDu: up.ratio, duBesideMedianSeconds: up.du.medianMs / 1000 },
      dockerSystemDf: { medianSeconds: df.medianMs / 1000, samplesSeconds: df.runs.map((r) => r.ms / 1000) },
      agent,
      growth,
      checks,
    };
    const out = resultsFile(args.files);
    writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);

    const f = fixture;
    process.stdout.write(
      `\nlayerdu bench --files ${args.files}: ${f.overlay2Inodes} inodes, ${(f.overlay2Bytes / 2 ** 30).toFixed(2)} GiB in ${overlay2}` +
        ` (warm cache, median of ${args.runs}; ${os.cpus().length} CPUs, load ${loadBefore[0]!.toFixed(2)})\n\n${table(checks)}\n\n`,
    );
    if (reportDown.errorsOtherThanApi.length) {
      process.stdout.write(`scan errors:\n${reportDown.errorsOtherThanApi.slice(0, 10).map((e) => `  ${e}`).join('\n')}\n\n`);
    }
    process.stdout.write(`written ${path.relative(REPO_ROOT, out)}\n`);
    return checks.some((c) => c.pass === false) ? 1 : 0;
  } finally {
    if (daemon) await stopBenchDaemon(daemon, log).catch(() => undefined);
    if (!interrupted) rmSync(lock, { force: true });
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
