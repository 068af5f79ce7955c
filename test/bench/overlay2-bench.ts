// The overlay2 part of the bench, on the fixture of fixture.ts: the report beside du with the
// daemon down and up, Node's start-up and the report's fixed cost, the walk on a cold cache against
// du's, `docker system df -v`, the agent's scans and /metrics latency, and the RSS growth against
// the smaller preset.
import { DOCKER_CLI, type Daemon } from '../support/dockerd.js';
import { CLI } from '../support/oracles.js';
import { benchAgent } from './agent-bench.js';
import { checksFor, type Check } from './checks.js';
import { benchCold, benchStartup, coldChecks } from './cold-bench.js';
import { startBenchDaemon, stopBenchDaemon } from './daemon.js';
import type { FixtureInfo } from './fixture.js';
import { growthFromSmaller } from './growth.js';
import { log } from './log.js';
import { MiB, series } from './measure.js';
import { againstDu, overlay2Target } from './report-runs.js';
import type { Overlay2Results } from './results.js';

export async function benchOverlay2(files: string, runs: number, root: string, fixture: FixtureInfo): Promise<{ results: Overlay2Results; checks: Check[] }> {
  // 1 and 2: the disk walk alone, the daemon down, each report run beside a du run, and beside
  // them the report on the persisted layer cache (issue 16).
  const down = await againstDu('layerdu --report (API down)', runs, overlay2Target(root, 'unix:///nonexistent.sock'), { cached: true });
  const reportDown = down.report;
  // The fixed cost in every report run: Node loading the CLI and its modules.
  const startup = await series('layerdu --version (start-up)', runs, process.execPath, [CLI, '--version'], { log });
  // Issue 16: the report's fixed cost (an empty docker root), then du and the report on a cold cache.
  const fixedCost = await benchStartup(runs);
  const cold = await benchCold(root, Math.max(3, Math.min(runs, 5)), []);

  // 3, 4 and 5: the daemon up on the same root.
  log('starting dockerd on the fixture root');
  let daemon: Daemon | null = await startBenchDaemon(root);
  try {
    const up = await againstDu('layerdu --report (API up)', runs, overlay2Target(root, daemon.host));
    const reportUp = up.report;
    const dockerEnv: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: daemon.host, DOCKER_CLI_HINTS: 'false' };
    delete dockerEnv.DOCKER_CONTEXT;
    const df = await series('docker system df -v', runs, DOCKER_CLI, ['system', 'df', '-v'], { log, env: dockerEnv });
    const agent = await benchAgent({
      dockerRoot: root,
      dockerHost: daemon.host,
      log,
      timeoutMs: Math.max(180_000, reportUp.medianSeconds * 1000 * 10),
    });
    await stopBenchDaemon(daemon, log);
    daemon = null;

    // The memory growth against the smaller preset's results, when there are some.
    const growth = growthFromSmaller(files, fixture, reportDown, startup);
    const checks = [...checksFor({ files, down, up, startup, df, agent, growth }), ...coldChecks(cold, fixedCost)];
    const { du, duBytes } = down;
    const results: Overlay2Results = {
      fixture: { ...fixture, root },
      du: { medianSeconds: du.medianMs / 1000, samplesSeconds: du.runs.map((r) => r.ms / 1000), bytes: duBytes, peakRssMiB: du.maxRss === null ? null : du.maxRss / MiB },
      reportApiDown: { ...reportDown, ratioToDu: down.ratio, roundRatios: down.ratios },
      ...(down.cached ? { reportCached: { ...down.cached.report, ratioToDu: down.cached.ratio, roundRatios: down.cached.ratios } } : {}),
      startup: { medianSeconds: startup.medianMs / 1000, samplesSeconds: startup.runs.map((r) => r.ms / 1000), peakRssMiB: startup.maxRss === null ? null : startup.maxRss / MiB },
      reportApiUp: { ...reportUp, ratioToDu: up.ratio, duBesideMedianSeconds: up.du.medianMs / 1000 },
      dockerSystemDf: { medianSeconds: df.medianMs / 1000, samplesSeconds: df.runs.map((r) => r.ms / 1000) },
      agent,
      growth,
      cold,
      fixedCost,
    };
    return { results, checks };
  } finally {
    if (daemon) await stopBenchDaemon(daemon, log).catch(() => undefined);
  }
}
