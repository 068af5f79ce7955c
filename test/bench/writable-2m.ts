// `node dist/test/bench/run.js --case 2m-writable [--runs N] [--rebuild] [--root-base DIR]` (or
// `node dist/test/bench/writable-2m.js --case 2m-writable …`)
// (issue 14): one container whose writable layer (overlay2's upper dir, `diff/` of its mount id)
// holds 2,000,000 small files, and the report's peak RSS and duration on it with each walker
// (GNU find, and the Node walker: LAYERDU_WALKER=node). Writable layers are indexed path by path
// for the copy-up analysis (collectors/walk/semantics.ts), and that index (collectors/lib/
// path-index.ts) grows with the layer: the bound below says how far.
//
// The fixture (kept in <base>/2m-writable/ with a marker of its recipe): a private daemon imports
// the base image and `docker create`s one container, is stopped, and this process then writes the
// files straight into the container's diff dir: 2,000 directories of 1,000 files, every tenth file
// one byte and the rest empty. The report runs with the API unreachable (the daemon down), as
// the walk part's "report (API down)" does, beside `du -sB1` of the diff dir; peak RSS is GNU
// time's (measure.ts: the largest process of the run), and a /proc sampler adds the whole
// process tree's (the Node walker's walker processes hold each index before they hand it over).
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, statfsSync, writeFileSync, writeSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { makeBaseImage, mountsUnder } from '../support/dockerd.js';
import { CLI, REPO_ROOT } from '../support/oracles.js';
import type { Check } from './checks.js';
import { startBenchDaemon, stopBenchDaemon, stopDaemonsOn } from './daemon.js';
import { assertBenchRoot, du, freeBytes, readMarker, writeMarker } from './fixture.js';
import { takeLock } from './lock.js';
import { log } from './log.js';
import { haveGnuTime, interleaved, median, MiB, type Timed } from './measure.js';
import { gitInfo, hostInfo } from './results.js';
import { fmt, table } from './table.js';

export const CASE = '2m-writable';
export const WRITABLE = { files: 2_000_000, perDir: 1_000, oneByteEvery: 10 };
/** The report's peak RSS on this layer, with either walker: its largest process, and the whole process tree. */
export const BOUND_MIB = 256;
const RECIPE_VERSION = 1;
const CONTAINER = 'layerdu-bench-2m-writable';
const API_DOWN = 'unix:///nonexistent.sock';

export interface WritableFixture {
  recipe: string;
  builtAt: string;
  buildSeconds: number;
  writeSeconds: number;
  containerId: string;
  mountId: string;
  diffDir: string;
  files: number;
  diffBytes: number;
  diffInodes: number;
}

function recipe(): string {
  return createHash('sha256').update(JSON.stringify({ RECIPE_VERSION, WRITABLE, CONTAINER })).digest('hex').slice(0, 16);
}

/** Writes the files into `diff` (made by Docker, empty): synchronous calls, as fast as this gets. */
function writeFiles(diff: string): void {
  const top = path.join(diff, 'many');
  mkdirSync(top);
  const dirs = Math.ceil(WRITABLE.files / WRITABLE.perDir);
  const one = Buffer.from('x');
  let n = 0;
  for (let d = 0; d < dirs; d++) {
    const dir = path.join(top, `d${String(d).padStart(4, '0')}`);
    mkdirSync(dir);
    for (let f = 0; f < WRITABLE.perDir && n < WRITABLE.files; f++, n++) {
      const fd = openSync(path.join(dir, `f${String(f).padStart(3, '0')}`), 'w');
      if (n % WRITABLE.oneByteEvery === 0) writeSync(fd, one);
      closeSync(fd);
    }
    if ((d + 1) % 200 === 0) log(`${CASE}: ${n} files written`);
  }
}

export async function ensureWritableFixture(base: string, rebuild: boolean): Promise<WritableFixture> {
  const root = path.join(base, CASE);
  assertBenchRoot(root, base);
  const want = recipe();
  const info = (await readMarker(root)) as unknown as WritableFixture | null;
  const why = rebuild
    ? 'rebuild asked for'
    : !info
      ? 'no fixture built yet'
      : info.recipe !== want
        ? `recipe changed (${info.recipe} → ${want})`
        : !existsSync(info.diffDir) || !existsSync(path.join(root, 'containers', info.containerId))
          ? 'the container or its diff dir is missing'
          : null;
  if (why === null) {
    log(`${CASE}: fixture ${root} is up to date (built ${info!.builtAt} in ${info!.buildSeconds.toFixed(0)} s)`);
    return info!;
  }
  log(`${CASE}: building the fixture in ${root}: ${why}`);
  await stopDaemonsOn(root, log);
  if (mountsUnder(root, true).length > 0) throw new Error(`${root} still has mounts: not removing it`);
  if (existsSync(root)) await rm(root, { recursive: true, force: true });
  await mkdir(root, { recursive: true });
  const inodes = statfsSync(root).ffree;
  const needBytes = (WRITABLE.files / WRITABLE.oneByteEvery) * 4096 * 1.2 + (WRITABLE.files / WRITABLE.perDir) * 40 * 1024 + 512 * MiB;
  if (inodes < WRITABLE.files * 1.1 || freeBytes(root) < needBytes) {
    throw new Error(`${root}: ${inodes} free inodes and ${(freeBytes(root) / 2 ** 30).toFixed(1)} GiB free; need ${WRITABLE.files * 1.1} inodes and ${(needBytes / 2 ** 30).toFixed(1)} GiB`);
  }
  const start = performance.now();
  const d = await startBenchDaemon(root);
  let containerId: string;
  try {
    await makeBaseImage(d, 'layerdu-bench-base:latest');
    await d.docker(['create', '--network', 'none', '--name', CONTAINER, 'layerdu-bench-base:latest', 'true']);
    containerId = (await d.docker(['container', 'inspect', '--format', '{{.Id}}', CONTAINER])).trim();
  } finally {
    await stopBenchDaemon(d, log);
  }
  const mountId = (await readFile(path.join(root, 'image', 'overlay2', 'layerdb', 'mounts', containerId, 'mount-id'), 'utf8')).trim();
  const diffDir = path.join(root, 'overlay2', mountId, 'diff');
  if (readdirSync(diffDir).length !== 0) throw new Error(`${diffDir}: not empty after docker create`);
  const t = performance.now();
  log(`${CASE}: writing ${WRITABLE.files} files into ${diffDir}`);
  writeFiles(diffDir);
  const writeSeconds = (performance.now() - t) / 1000;
  log(`${CASE}: written in ${writeSeconds.toFixed(0)} s; du of the diff dir`);
  const built: WritableFixture = {
    recipe: want,
    builtAt: new Date().toISOString(),
    buildSeconds: (performance.now() - start) / 1000,
    writeSeconds,
    containerId,
    mountId,
    diffDir,
    files: WRITABLE.files,
    diffBytes: await du(['-sB1'], diffDir),
    diffInodes: await du(['--inodes', '-s'], diffDir),
  };
  await writeMarker(root, built);
  return built;
}

/** The processes under `pid` (itself included), from /proc's parent links. */
function tree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(e)]);
    } catch {
      /* gone */
    }
  }
  const out: number[] = [];
  for (let todo = [pid]; todo.length; ) {
    const p = todo.pop()!;
    out.push(p);
    todo.push(...(children.get(p) ?? []));
  }
  return out;
}

const rssOf = (pid: number): number => {
  try {
    return Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * 4096;
  } catch {
    return 0;
  }
};

/** Every 100 ms, the summed RSS of each report run's process tree; the peak per walker. */
function treeSampler(): { stop: () => Record<string, number> } {
  const peak: Record<string, number> = {};
  const timer = setInterval(() => {
    for (const p of tree(process.pid).slice(1)) {
      let cmd: string;
      try {
        cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      } catch {
        continue;
      }
      if (!cmd.includes(CLI) || !cmd.includes('--report')) continue;
      const env = (() => {
        try {
          return readFileSync(`/proc/${p}/environ`, 'utf8');
        } catch {
          return '';
        }
      })();
      const walker = env.split('\0').includes('LAYERDU_WALKER=node') ? 'node' : 'find';
      const sum = tree(p).reduce((s, q) => s + rssOf(q), 0);
      peak[walker] = Math.max(peak[walker] ?? 0, sum);
      break;
    }
  }, 100);
  return { stop: () => (clearInterval(timer), peak) };
}

interface ReportJson {
  errors: { source: string; path?: string | null; message: string }[];
  containers: { id: string; writable: { disk: number; apparent: number }; copiedUp: { disk: number } }[];
  scan: { durationSeconds: number };
}

export interface WalkerFigures {
  walker: 'find' | 'node';
  medianSeconds: number;
  samplesSeconds: number[];
  scanSecondsMedian: number;
  peakRssMiB: number | null;
  treePeakRssMiB: number | null;
  writableDisk: number;
  errors: string[];
}

export async function benchWritable2m(base: string, runs: number, rebuild: boolean): Promise<number> {
  await mkdir(base, { recursive: true });
  const root = path.join(base, CASE);
  const lock = `${root}.lock`;
  takeLock(lock);
  try {
    const loadBefore = os.loadavg();
    const f = await ensureWritableFixture(base, rebuild);
    haveGnuTime(log);
    const parsed: Record<string, ReportJson[]> = { find: [], node: [] };
    const reportArgs = [CLI, '--report', '--format', 'json', '--docker-root', root, '--docker-host', API_DOWN];
    const env = (walker: 'find' | 'node'): NodeJS.ProcessEnv => {
      const e: NodeJS.ProcessEnv = { ...process.env };
      if (walker === 'node') e.LAYERDU_WALKER = 'node';
      else delete e.LAYERDU_WALKER;
      return e;
    };
    const parse = (walker: string) => (t: Timed) => {
      try {
        parsed[walker]!.push(JSON.parse(t.stdout) as ReportJson);
      } catch (e) {
        throw new Error(`${walker}: no JSON (${(e as Error).message}); stderr: ${t.stderr.slice(-1000)}`);
      }
    };
    const sampler = treeSampler();
    const [duS, findS, nodeS] = await interleaved(
      [
        { label: 'du -sB1 of the writable layer', cmd: 'du', args: ['-sB1', f.diffDir] },
        { label: 'layerdu --report (GNU find)', cmd: process.execPath, args: reportArgs, env: env('find'), check: parse('find') },
        { label: 'layerdu --report (LAYERDU_WALKER=node)', cmd: process.execPath, args: reportArgs, env: env('node'), check: parse('node') },
      ],
      runs,
      log,
    );
    const treePeak = sampler.stop();
    const figures = ([['find', findS!], ['node', nodeS!]] as const).map(([walker, s]): WalkerFigures => {
      const reports = parsed[walker]!.slice(1);
      const last = reports[reports.length - 1]!;
      const c = last.containers.find((x) => x.id === f.containerId);
      return {
        walker,
        medianSeconds: s.medianMs / 1000,
        samplesSeconds: s.runs.map((r) => r.ms / 1000),
        scanSecondsMedian: median(reports.map((r) => r.scan.durationSeconds)),
        peakRssMiB: s.maxRss === null ? null : s.maxRss / MiB,
        treePeakRssMiB: treePeak[walker] === undefined ? null : treePeak[walker]! / MiB,
        writableDisk: c?.writable.disk ?? -1,
        errors: [...new Set(last.errors.filter((e) => e.source !== 'docker-api').map((e) => `${e.source}: ${e.path ?? ''}: ${e.message}`))],
      };
    });
    const duSeconds = duS!.medianMs / 1000;
    const check = (name: string, value: number | null, unit: string, target: string, pass: boolean | null, note?: string): Check => ({ name, value, unit, target, pass, ...(note ? { note } : {}) });
    const checks: Check[] = [check('files in the writable layer', f.files, '', '', null, `${fmt(f.diffInodes, '')} inodes, ${fmt(f.diffBytes / MiB, 'MiB')} (du -sB1)`)];
    checks.push(check('du -sB1 of the writable layer (wall)', duSeconds, 's', '', null));
    for (const w of figures) {
      const name = w.walker === 'find' ? 'GNU find' : 'Node walker';
      checks.push(
        check(`${name}: report (wall)`, w.medianSeconds, 's', '', null, `scan itself ${fmt(w.scanSecondsMedian, 's')}; ${fmt(w.medianSeconds / duSeconds, '×')} du`),
        check(`${name}: report peak RSS`, w.peakRssMiB, 'MiB', `<= ${BOUND_MIB}`, w.peakRssMiB !== null && w.peakRssMiB <= BOUND_MIB, 'GNU time: the largest process'),
        // A memory limit (the DaemonSet's 256 MiB, a systemd MemoryMax) counts every process of
        // the tree: the Node walker's walker processes hold each index while they hand it over.
        check(`${name}: peak RSS of the whole process tree`, w.treePeakRssMiB, 'MiB', `<= ${BOUND_MIB}`, w.treePeakRssMiB !== null && w.treePeakRssMiB <= BOUND_MIB, 'sampled every 100 ms: at least this'),
        check(`${name}: scan completes, writable bytes = du`, w.writableDisk, 'B', `= ${f.diffBytes}`, w.writableDisk === f.diffBytes && w.errors.length === 0, w.errors.length ? `${w.errors.length} errors: ${w.errors[0]}` : 'no errors'),
      );
    }
    const out = path.join(REPO_ROOT, 'test', 'bench', `results-${CASE}.json`);
    writeFileSync(out, `${JSON.stringify({ case: CASE, generatedAt: new Date().toISOString(), runs, host: hostInfo(loadBefore), git: gitInfo(), fixture: f, du: { medianSeconds: duSeconds, samplesSeconds: duS!.runs.map((r) => r.ms / 1000) }, walkers: figures, boundMiB: BOUND_MIB, checks }, null, 2)}\n`);
    process.stdout.write(`\nlayerdu bench --case ${CASE}: ${f.files} files in one writable layer (warm cache, median of ${runs}; ${os.cpus().length} CPUs, load ${loadBefore[0]!.toFixed(2)})\n\n${table(checks)}\n\nwritten ${path.relative(REPO_ROOT, out)}\n`);
    return checks.some((c) => c.pass === false) ? 1 : 0;
  } finally {
    rmSync(lock, { force: true });
  }
}

/** `--case NAME` among run.ts's arguments: the case and the rest of the arguments this case reads. */
export function caseArgs(argv: string[]): { name: string; runs: number; rebuild: boolean; base: string } | null {
  const i = argv.findIndex((a) => a === '--case' || a.startsWith('--case='));
  if (i < 0) return null;
  const name = argv[i]!.includes('=') ? argv[i]!.split('=')[1]! : argv[i + 1];
  if (name !== CASE) throw new Error(`--case ${name ?? ''}: one of ${CASE}`);
  const rest = argv.filter((_, k) => k !== i && !(k === i + 1 && !argv[i]!.includes('=')));
  const a = { name, runs: 2, rebuild: false, base: process.env.LAYERDU_BENCH_ROOT || '/var/tmp/layerdu-bench' };
  for (let k = 0; k < rest.length; k++) {
    const [flag, inline] = rest[k]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const val = () => inline ?? rest[++k] ?? '';
    if (flag === '--runs') a.runs = Number(val());
    else if (flag === '--rebuild') a.rebuild = true;
    else if (flag === '--root-base') a.base = path.resolve(val());
    else throw new Error(`--case ${CASE}: unknown argument ${flag} (it takes --runs, --rebuild, --root-base)`);
  }
  if (!Number.isInteger(a.runs) || a.runs < 1) throw new Error('--runs must be a positive integer');
  return a;
}

export async function runCase(argv: string[]): Promise<number | null> {
  const a = caseArgs(argv);
  if (!a) return null;
  return benchWritable2m(a.base, a.runs, a.rebuild);
}

// Run alone (`node dist/test/bench/writable-2m.js --case 2m-writable`) as well as from run.ts.
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  runCase(process.argv.slice(2)).then(
    (code) => process.exit(code ?? 2),
    (e: unknown) => {
      process.stderr.write(`bench: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exit(2);
    },
  );
}
