// The golden tests' run of the CLI on the recorded docker root (golden-root.ts): the root extracted
// once per test file onto a fresh loop-mounted ext4 and cleaned up after it, the scan with the
// Docker API unreachable, and the normalisation of only what depends on the run. Used by
// test/integration/golden.test.ts (the goldens) and golden-oracles.test.ts (their figures against
// du and what Docker recorded). Needs root, GNU tar, GNU find, mkfs.ext4, losetup and du.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ROOT_TAR, extractRecordedRoot, type ExtractedRoot } from './golden-root.js';
import type { ReportRun } from './oracles.js';

// Placeholders for what depends on the run.
const ROOT_PH = '<DOCKER_ROOT>';
const MOUNTPOINT_PH = '<MOUNTPOINT>';
const LOOP_PH = '<LOOP_DEVICE>';
const DEVICE_PH = '<MAJOR:MINOR>';
const TIME_PH = '<TIMING>';

export const API = 'unix:///nonexistent.sock';
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

// The subset of the report the golden tests read (kept here, not imported from agent/: the tests
// speak of the output, whatever the code that makes it is called).
interface Bytes {
  disk: number;
  apparent: number;
}
export interface Report {
  dockerRoot: string;
  apiUp: boolean;
  filesystem: { mountpoint: string; fstype: string; source: string; device: string; size: number; avail: number } | null;
  host?: { os: string; kernel: string; device: { name: string | null; type: string; rotational: boolean | null; model: string | null } };
  images: Array<{
    id: string; tags: string[]; layers: string[];
    disk: { total: number; shared: number; unique: number };
    apparent: { total: number; shared: number; unique: number };
    wasted: Bytes; containers: number;
  }>;
  layers: Array<{ chainId: string; diffId: string; cacheId: string | null; disk: number; apparent: number; images: string[]; containers: string[] }>;
  containers: Array<{ id: string; name: string; imageId: string; state: string; writable: Bytes; init: Bytes; copiedUp: Bytes; logs: number; logsApparent: number }>;
  volumes: Array<{ name: string; disk: number; apparent: number; containers: string[] }>;
  orphans: Array<{ id: string; path: string; disk: number; apparent: number }>;
  buildCache: { disk: number; apparent: number; dirs: number };
  totals: {
    disk: Record<'imageLayers' | 'containerLayers' | 'volumes' | 'logs' | 'buildCache' | 'orphans' | 'other' | 'total', number>;
    apparent: Record<'imageLayers' | 'containerLayers' | 'volumes' | 'logs' | 'buildCache' | 'orphans' | 'other' | 'total', number>;
    naiveVirtual: number;
  };
  errors: Array<{ source: string; path: string; message: string }>;
  scan: { startedAt: string; finishedAt: string; durationSeconds: number; collectors: Array<{ name: string; success: boolean; durationSeconds: number }> };
}

/** "major:minor" of the filesystem holding `p`, as mountinfo writes it. */
function majorMinor(p: string): string {
  const dev = statSync(p, { bigint: true }).dev;
  const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
  const minor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
  return `${major}:${minor}`;
}

/** Replaces every occurrence of `from` in `text`. */
const replaceAll = (text: string, from: string, to: string): string => text.split(from).join(to);

/**
 * The JSON report with what depends on the run replaced, and nothing else:
 * - the temp path of the docker root, everywhere (dockerRoot, orphans[].path): a fresh mkdtemp per run;
 * - filesystem.mountpoint (the temp mount), .source (/dev/loopN) and .device (7:N): whichever loop
 *   device was free. Each is first checked to be this run's actual value;
 * - scan.startedAt, scan.finishedAt, scan.durationSeconds, scan.collectors[].durationSeconds: clocks;
 * - host (the machine's OS and kernel, and the loop device: checked, then left out; the unit tests
 *   hold its shape), and likewise layerdu_host_info and the header's device in the other formats.
 * Nothing else was seen to vary: two scans of one extraction, scans of two extractions at paths of
 * different lengths, and the Node walker all gave the same bytes otherwise (filesystem.size and
 * .avail included, with the fixed mkfs options), so every figure, id, list order and error message
 * is compared as it is.
 */
export function normaliseJson(stdout: string, x: ExtractedRoot): string {
  const r = JSON.parse(replaceAll(stdout, x.root, ROOT_PH)) as Report;
  assert.ok(r.filesystem, 'the report names the filesystem holding the root');
  assert.equal(r.filesystem.mountpoint, x.mountpoint, 'filesystem.mountpoint is the temp mount');
  assert.equal(r.filesystem.source, x.loop, 'filesystem.source is the loop device');
  assert.equal(r.filesystem.device, majorMinor(x.root), 'filesystem.device is the loop device');
  r.filesystem.mountpoint = MOUNTPOINT_PH;
  r.filesystem.source = LOOP_PH;
  r.filesystem.device = DEVICE_PH;
  assert.equal(r.host?.device.name, x.loop, 'host.device is the loop device');
  assert.equal(r.host?.device.type, 'unknown', 'a loop device is no disk of its own');
  delete r.host;
  const scan = r.scan as unknown as Record<string, unknown>;
  for (const k of ['startedAt', 'finishedAt', 'durationSeconds']) {
    assert.ok(k in scan, `scan.${k} is there`);
    scan[k] = TIME_PH;
  }
  for (const c of r.scan.collectors as unknown as Array<Record<string, unknown>>) {
    assert.equal(typeof c.durationSeconds, 'number');
    c.durationSeconds = TIME_PH;
  }
  const out = `${JSON.stringify(r, null, 2)}\n`;
  assert.ok(!out.includes(x.mountpoint), `nothing else names the temp mount ${x.mountpoint}`);
  return out;
}

/** Series whose value is a clock reading. */
const PROM_TIMING = /^(layerdu_scan_duration_seconds|layerdu_last_scan_timestamp_seconds|layerdu_collector_duration_seconds)(\{[^}]*\})? /;
/** The process's own metrics (none in --report today; skipped should they come). */
const PROM_PROCESS = /^(# (HELP|TYPE) )?(process_|nodejs_)/;

/**
 * The exposition text with the same normalisation: root path and mountpoint label replaced, the
 * values of the timing series (not the series) replaced, process_/nodejs_ lines dropped.
 */
export function normaliseProm(stdout: string, x: ExtractedRoot): string {
  const text = replaceAll(replaceAll(stdout, x.root, ROOT_PH), `mountpoint="${x.mountpoint}"`, `mountpoint="${MOUNTPOINT_PH}"`);
  assert.match(text, new RegExp(`^layerdu_host_info\\{.*device_type="unknown",device="${x.loop}"\\} 1$`, 'm'), 'layerdu_host_info names the loop device');
  // The machine's own facts: the whole block (HELP, TYPE, the sample, the blank line after it) goes.
  const lines = text
    .replace(/^# HELP layerdu_host_info .*\n# TYPE layerdu_host_info .*\n(layerdu_host_info\{.*\n)*\n?/m, '')
    .split('\n')
    .filter((l) => !PROM_PROCESS.test(l))
    .map((l) => {
      const m = PROM_TIMING.exec(l);
      return m ? `${m[0]}${TIME_PH}` : l;
    });
  const out = lines.join('\n');
  assert.ok(!out.includes(x.mountpoint), `nothing else names the temp mount ${x.mountpoint}`);
  return out;
}

/** The text report: only the root path depends on the run (it prints no timings). */
export function normaliseText(stdout: string, x: ExtractedRoot): string {
  const out = replaceAll(replaceAll(stdout, x.root, ROOT_PH), ` on ${x.loop} (device type unknown)`, '');
  assert.ok(!out.includes(x.mountpoint), `nothing else names the temp mount ${x.mountpoint}`);
  return out;
}

/** Whether `cmd` is on PATH. */
function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** Whether `cmd --version` says it is GNU's. */
function gnu(cmd: string): boolean {
  const r = spawnSync(cmd, ['--version'], { encoding: 'utf8' });
  return r.status === 0 && /GNU/.test(r.stdout);
}

/** The CLI arguments of a scan of the extracted root in `format`, the API unreachable. */
export function scanArgs(x: ExtractedRoot, format: string): string[] {
  return ['--format', format, '--docker-root', x.root, '--docker-host', API];
}

/** A run that must succeed: exit 0, and stderr only the unreachable API's one line. */
export function assertRan(r: ReportRun, what: string): void {
  assert.equal(r.code, 0, `${what}: exit ${r.code} ${r.signal ?? ''}\n${r.stderr}`);
  const lines = r.stderr.split('\n').filter(Boolean);
  assert.deepEqual(
    lines,
    [`layerdu: docker-api: ${API}: unreachable, figures come from disk alone: no socket at /nonexistent.sock`],
    `${what}: stderr`,
  );
}

/**
 * Extracts the recorded root before the calling describe's tests and cleans it up after them
 * (mount, loop device, temp dir): the integration tier loads no root hooks, so each test file
 * undoes what it made. Should the run end before the after hook (process.exit, Ctrl-C, kill),
 * the 'exit' and signal handlers undo it anyway. Skips unless root with the host tools. Returns
 * the extraction, for the tests (and later hooks) to call once it is made.
 */
export function useRecordedRoot(): () => ExtractedRoot {
  let x: ExtractedRoot | null = null;
  let onExit: (() => void) | null = null;

  /** Cleans up at once; then exits, unless another handler (test/support/hooks.ts) will. */
  function onSignal(sig: NodeJS.Signals): void {
    x?.cleanUpSync();
    if (process.listenerCount(sig) === 0) process.exit(130);
  }

  before(async function () {
    if (process.getuid?.() !== 0) this.skip();
    for (const cmd of ['mkfs.ext4', 'losetup', 'mount', 'umount', 'truncate', 'du', 'sync']) {
      if (!have(cmd)) this.skip();
    }
    assert.ok(gnu('tar'), 'GNU tar is needed (xattrs, sparse files)');
    assert.ok(gnu('find'), 'GNU find is needed: the default walker, the first of the two compared');
    assert.ok(existsSync(ROOT_TAR), `${ROOT_TAR} is missing: record it with npm run record-root`);
    const work = await mkdtemp(path.join(tmpdir(), 'ldu-golden-'));
    x = await extractRecordedRoot(work);
    const extracted = x;
    onExit = () => extracted.cleanUpSync();
    process.once('exit', onExit);
    for (const sig of SIGNALS) process.once(sig, onSignal);
  });

  after(async function () {
    if (onExit) process.removeListener('exit', onExit);
    for (const sig of SIGNALS) process.removeListener(sig, onSignal);
    if (x) await x.cleanUp();
  });

  return () => {
    assert.ok(x, 'the recorded root is extracted (by the before hook of useRecordedRoot)');
    return x;
  };
}
