// `npm run bench [-- --files 300k|1m] [--runs 3] [--rebuild] [--build-only]`: issue 6's numbers.
//
// Builds (once; kept in /var/tmp/layerdu-bench/<files>/) a docker root with two image layers of
// many small files and a container that copied some up, then measures on a warm page cache:
// layerdu --report against du, its peak RSS, the agent's first and next scan, /metrics latency
// during a scan and `docker system df -v`. Prints a table to stdout, progress to stderr, and
// writes the same to test/bench/results-<files>.json.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import * as path from 'node:path';
import { DOCKER_CLI, type Daemon } from '../support/dockerd.js';
import { CLI, REPO_ROOT } from '../support/oracles.js';
import { benchAgent, type AgentResult } from './agent-bench.js';
import { alive, startBenchDaemon, stopBenchDaemon, stopDaemonsOn } from './daemon.js';
import { ensureFixture, PRESETS, type FixtureInfo } from './fixture.js';
import { haveGnuTime, interleaved, median, pairedRatio, series, type Series, type Timed } from './measure.js';

const MiB = 2 ** 20;
const TARGETS = {
  duRatio: 1.5,
  peakRssMiB: 256,
  rescanRatio: 0.2,
  rescanRatioAim: 0.05,
  metricsLatencyMs: 100,
  /** RSS growth exponent over file-count growth: log(rss ratio) / log(files ratio). */
  growthExponent: 0.5,
  /** Report bytes (overlay2 categories) against du of overlay2. */
  sanityTolerance: 0.02,
};

interface Args {
  files: string;
  runs: number;
  rebuild: boolean;
  buildOnly: boolean;
  base: string;
}

const USAGE = `usage: npm run bench -- [--files ${Object.keys(PRESETS).join('|')}] [--runs N] [--rebuild] [--build-only] [--root-base DIR]
  --files       fixture size: total files of its two big layers (default 300k)
  --runs        timed runs per command after one warm-up run (default 3; the median is reported)
  --rebuild     rebuild the fixture even when its marker says it is current
  --build-only  build (or check) the fixture and stop
  --root-base   where fixtures live (default $LAYERDU_BENCH_ROOT or /var/tmp/layerdu-bench)
`;

function parseArgs(argv: string[]): Args {
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

function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

// --- one bench at a time per fixture -------------------------------------------------------------

function takeLock(file: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      closeSync(openSync(file, 'wx'));
      writeFileSync(file, `${process.pid}\n`);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (pid > 0 && alive(pid)) throw new Error(`another bench (pid ${pid}) holds ${file}`);
      rmSync(file, { force: true });
    }
  }
  throw new Error(`could not take ${file}`);
}

/** Our own children (an agent, a du, a docker client) still running. */
function childPids(): number[] {
  const pids: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid) pids.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return pids;
}

// --- the measurements ------------------------------------------------------------------------------

interface ReportJson {
  errors: { source: string; path?: string | null; message: string }[];
  layers: unknown[];
  images: unknown[];
  containers: { copiedUp: { disk: number } }[];
  totals: { disk: { imageLayers: number; containerLayers: number; orphans: number; buildCache: number; total: number } };
  scan: { durationSeconds: number; layersWalked: number; layersReused: number };
}

function parseReport(t: Timed): ReportJson {
  try {
    return JSON.parse(t.stdout) as ReportJson;
  } catch (e) {
    throw new Error(`layerdu --report --format json printed no JSON: ${(e as Error).message}; stderr: ${t.stderr.slice(-1000)}`);
  }
}

interface ReportSeries {
  medianSeconds: number;
  samplesSeconds: number[];
  /** Peak RSS: the largest of the timed runs, and their median, MiB. */
  peakRssMiB: number | null;
  medianRssMiB: number | null;
  /** The scan's own duration (from the JSON), median seconds: the rest is Node start-up and output. */
  scanSecondsMedian: number;
  errorsOtherThanApi: string[];
  overlay2ReportBytes: number;
  layers: number;
  images: number;
  containers: number;
}

function summarize(s: Series, parsed: ReportJson[]): ReportSeries {
  const last = parsed[parsed.length - 1]!;
  const d = last.totals.disk;
  return {
    medianSeconds: s.medianMs / 1000,
    samplesSeconds: s.runs.map((r) => r.ms / 1000),
    peakRssMiB: s.maxRss === null ? null : s.maxRss / MiB,
    medianRssMiB: s.medianRss === null ? null : s.medianRss / MiB,
    scanSecondsMedian: median(parsed.map((p) => p.scan.durationSeconds)),
    errorsOtherThanApi: [...new Set(last.errors.filter((e) => e.source !== 'docker-api').map((e) => `${e.source}: ${e.path ?? ''}: ${e.message}`))],
    overlay2ReportBytes: d.imageLayers + d.containerLayers + d.orphans + d.buildCache,
    layers: last.layers.length,
    images: last.images.length,
    containers: last.containers.length,
  };
}

/** du of overlay2 and a report run in turn (measure.ts, interleaved): their ratio round by round. */
async function againstDu(label: string, runs: number, root: string, host: string): Promise<{ du: Series; duBytes: number; report: ReportSeries; ratio: number }> {
  const parsed: ReportJson[] = [];
  let duBytes = 0;
  const [du, report] = await interleaved(
    [
      { label: 'du -sB1 overlay2', cmd: 'du', args: ['-sB1', path.join(root, 'overlay2')], check: (t) => void (duBytes = Number(t.stdout.split(/\s/)[0])) },
      {
        label,
        cmd: process.execPath,
        args: [CLI, '--report', '--format', 'json', '--docker-root', root, '--docker-host', host],
        check: (t) => void parsed.push(parseReport(t)),
      },
    ],
    runs,
    log,
  );
  return { du: du!, duBytes, report: summarize(report!, parsed.slice(1)), ratio: pairedRatio(report!, du!) };
}

interface Check {
  name: string;
  value: number | null;
  unit: string;
  /** e.g. "<= 1.5"; empty for figures shown for information. */
  target: string;
  pass: boolean | null;
  note?: string;
}

function fmt(v: number | null, unit: string): string {
  if (v === null) return 'n/a';
  if (Number.isInteger(v)) return `${v}${unit ? ` ${unit}` : ''}`;
  const digits = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : Math.abs(v) >= 1 ? 2 : 3;
  return `${v.toFixed(digits)}${unit ? ` ${unit}` : ''}`;
}

function table(checks: Check[]): string {
  const rows = checks.map((c) => [c.name, fmt(c.value, c.unit), c.target, c.pass === null ? '' : c.pass ? 'PASS' : 'FAIL', c.note ?? '']);
  const head = ['measure', 'value', 'target', '', 'note'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function gitInfo(): { commit: string | null; dirty: string[] } {
  const g = (args: string[]) => spawnSync('git', ['-C', REPO_ROOT, ...args], { encoding: 'utf8' });
  const head = g(['rev-parse', '--short', 'HEAD']);
  const st = g(['status', '--porcelain', '--', 'agent', 'collectors']);
  return {
    commit: head.status === 0 ? head.stdout.trim() : null,
    dirty: st.status === 0 ? st.stdout.split('\n').filter(Boolean).map((l) => l.slice(3)) : [],
  };
}

interface Results {
  schema: 2;
  files: string;
  generatedAt: string;
  runs: number;
  host: Record<string, unknown>;
  git: ReturnType<typeof gitInfo>;
  fixture: FixtureInfo & { root: string };
  du: { medianSeconds: number; samplesSeconds: number[]; bytes: number; peakRssMiB: number | null };
  /** ratioToDu: the median of report/du, run by run (du ran beside each report run). */
  reportApiDown: ReportSeries & { ratioToDu: number };
  startup: { medianSeconds: number; samplesSeconds: number[]; peakRssMiB: number | null };
  reportApiUp: ReportSeries & { ratioToDu: number; duBesideMedianSeconds: number };
  dockerSystemDf: { medianSeconds: number; samplesSeconds: number[] };
  agent: AgentResult;
  growth: {
    from: string;
    filesRatio: number;
    rssRatio: number;
    exponent: number;
    /** The same above Node's own start-up RSS (`layerdu --version`), which does not grow. */
    exponentAboveStartup: number | null;
    /** Added peak RSS per added inode, bytes. */
    marginalBytesPerFile: number;
    peakRssMiB: { [files: string]: number };
  } | null;
  checks: Check[];
}

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
    const { du, duBytes } = down;
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
    let growth: Results['growth'] = null;
    const smaller = args.files === '1m' ? '300k' : null;
    const smallerFile = smaller ? path.join(REPO_ROOT, 'test', 'bench', `results-${smaller}.json`) : null;
    if (smallerFile && existsSync(smallerFile) && reportDown.peakRssMiB !== null) {
      const prev = JSON.parse(readFileSync(smallerFile, 'utf8')) as Results;
      const prevRss = prev.reportApiDown.peakRssMiB;
      if (prevRss) {
        const filesRatio = fixture.overlay2Inodes / prev.fixture.overlay2Inodes;
        const rssRatio = reportDown.peakRssMiB / prevRss;
        const base = startup.medianRss === null ? null : startup.medianRss / MiB;
        growth = {
          from: smaller!,
          filesRatio,
          rssRatio,
          exponent: Math.log(rssRatio) / Math.log(filesRatio),
          exponentAboveStartup: base !== null && prevRss > base ? Math.log((reportDown.peakRssMiB - base) / (prevRss - base)) / Math.log(filesRatio) : null,
          marginalBytesPerFile: ((reportDown.peakRssMiB - prevRss) * MiB) / (fixture.overlay2Inodes - prev.fixture.overlay2Inodes),
          peakRssMiB: { [smaller!]: prevRss, [args.files]: reportDown.peakRssMiB },
        };
      }
    } else if (smaller) {
      log(`no ${smallerFile} with a peak RSS: run \`npm run bench -- --files ${smaller}\` first for the growth comparison`);
    }

    const duS = du.medianMs / 1000;
    const sanity = reportDown.overlay2ReportBytes / duBytes - 1;
    const rescan = agent.secondScanSeconds / agent.firstScanSeconds;
    const checks: Check[] = [
      { name: 'du -sB1 overlay2 (wall)', value: duS, unit: 's', target: '', pass: null },
      { name: 'layerdu --report, API down (wall)', value: reportDown.medianSeconds, unit: 's', target: '', pass: null, note: `scan itself ${fmt(reportDown.scanSecondsMedian, 's')}` },
      { name: 'layerdu --version (wall)', value: startup.medianMs / 1000, unit: 's', target: '', pass: null, note: 'Node start-up, in every report run' },
      { name: 'report / du', value: down.ratio, unit: '×', target: `<= ${TARGETS.duRatio}`, pass: down.ratio <= TARGETS.duRatio, note: 'median of run-by-run ratios' },
      { name: 'layerdu --report, API up (wall)', value: reportUp.medianSeconds, unit: 's', target: '', pass: null, note: `du beside it ${fmt(up.du.medianMs / 1000, 's')}` },
      // Target 1 is the fixture's report as it stands (its daemon stopped); with the daemon up,
      // the API client's load and the daemon's answers are shown beside it.
      { name: 'report (API up) / du', value: up.ratio, unit: '×', target: '', pass: null, note: 'median of run-by-run ratios' },
      { name: 'report peak RSS (API down)', value: reportDown.peakRssMiB, unit: 'MiB', target: `<= ${TARGETS.peakRssMiB}`, pass: reportDown.peakRssMiB === null ? false : reportDown.peakRssMiB <= TARGETS.peakRssMiB },
      { name: 'report peak RSS (API up)', value: reportUp.peakRssMiB, unit: 'MiB', target: '', pass: null },
    ];
    if (growth) {
      checks.push(
        { name: `peak RSS ${growth.from} → ${args.files}`, value: growth.rssRatio, unit: '×', target: '', pass: null, note: `${fmt(growth.peakRssMiB[growth.from]!, 'MiB')} → ${fmt(reportDown.peakRssMiB, 'MiB')}; files ×${growth.filesRatio.toFixed(2)}` },
        { name: 'RSS growth exponent', value: growth.exponent, unit: '', target: `<= ${TARGETS.growthExponent}`, pass: growth.exponent <= TARGETS.growthExponent, note: 'log(RSS ratio)/log(files ratio); 1 = linear' },
        { name: 'RSS growth exponent above start-up', value: growth.exponentAboveStartup, unit: '', target: '', pass: null, note: `without ${fmt(startup.medianRss === null ? null : startup.medianRss / MiB, 'MiB')} of Node start-up` },
        { name: 'added peak RSS per added file', value: growth.marginalBytesPerFile, unit: 'B', target: '', pass: null },
      );
    }
    const d = agent.duringScan;
    checks.push(
      { name: 'agent first scan', value: agent.firstScanSeconds, unit: 's', target: '', pass: null, note: `${agent.firstLayersWalked} image layers walked` },
      { name: 'agent next scan (unchanged host)', value: agent.secondScanSeconds, unit: 's', target: '', pass: null },
      { name: 'next scan / first scan', value: rescan, unit: '×', target: `<= ${TARGETS.rescanRatio} (aim ${TARGETS.rescanRatioAim})`, pass: rescan <= TARGETS.rescanRatio },
      { name: 'next scan: image layers walked', value: agent.secondLayersWalked, unit: '', target: '0', pass: agent.secondLayersWalked === 0 },
      { name: 'next scan: image layers reused', value: agent.secondLayersReused, unit: '', target: '> 0', pass: agent.secondLayersReused > 0 },
      { name: '/metrics max latency during scan', value: d.maxMs, unit: 'ms', target: `< ${TARGETS.metricsLatencyMs}`, pass: d.maxMs !== null && d.samples >= 10 && d.maxMs < TARGETS.metricsLatencyMs, note: `${d.samples} samples while scanning` },
      { name: '/metrics p99 latency during scan', value: d.p99Ms, unit: 'ms', target: `< ${TARGETS.metricsLatencyMs}`, pass: d.p99Ms !== null && d.samples >= 10 && d.p99Ms < TARGETS.metricsLatencyMs, note: `p50 ${fmt(d.p50Ms, 'ms')}` },
      { name: 'agent peak RSS (two scans)', value: agent.peakRss === null ? null : agent.peakRss / MiB, unit: 'MiB', target: '', pass: null },
      { name: 'docker system df -v (wall)', value: df.medianMs / 1000, unit: 's', target: '', pass: null, note: 'peer reference' },
      {
        name: 'sanity: report overlay2 bytes vs du',
        value: sanity * 100,
        unit: '%',
        target: `within ±${TARGETS.sanityTolerance * 100}%`,
        pass: Math.abs(sanity) <= TARGETS.sanityTolerance && reportDown.errorsOtherThanApi.length === 0,
        note: reportDown.errorsOtherThanApi.length ? `${reportDown.errorsOtherThanApi.length} scan errors` : `${reportDown.layers} layers, ${reportDown.containers} containers`,
      },
    );

    const results: Results = {
      schema: 2,
      files: args.files,
      generatedAt: new Date().toISOString(),
      runs: args.runs,
      host: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? null,
        memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
        kernel: os.release(),
        node: process.version,
        loadavgBefore: loadBefore.map((x) => +x.toFixed(2)),
        loadavgAfter: os.loadavg().map((x) => +x.toFixed(2)),
      },
      git: gitInfo(),
      fixture: { ...fixture, root },
      du: { medianSeconds: duS, samplesSeconds: du.runs.map((r) => r.ms / 1000), bytes: duBytes, peakRssMiB: du.maxRss === null ? null : du.maxRss / MiB },
      reportApiDown: { ...reportDown, ratioToDu: down.ratio },
      startup: { medianSeconds: startup.medianMs / 1000, samplesSeconds: startup.runs.map((r) => r.ms / 1000), peakRssMiB: startup.maxRss === null ? null : startup.maxRss / MiB },
      reportApiUp: { ...reportUp, ratioToDu: up.ratio, duBesideMedianSeconds: up.du.medianMs / 1000 },
      dockerSystemDf: { medianSeconds: df.medianMs / 1000, samplesSeconds: df.runs.map((r) => r.ms / 1000) },
      agent,
      growth,
      checks,
    };
    const out = path.join(REPO_ROOT, 'test', 'bench', `results-${args.files}.json`);
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
