// The whole scan on a recorded docker root, no daemon (like node_exporter's end-to-end fixtures
// test): test/fixtures/docker-root/root.tar.gz (made once by test/support/record-root.ts) is
// extracted onto a fresh loop-mounted ext4 made with fixed options, scanned by the built CLI with
// the Docker API unreachable, and the output compared with the goldens beside the tar after
// normalising only what depends on the run (see normaliseJson / normaliseProm / normaliseText).
// Then a few golden figures are checked against independent oracles: du on the extracted tree,
// and what Docker itself said when the root was recorded (recording.json).
//
//   UPDATE_GOLDEN=1 npx mocha --no-config --timeout 120000 dist/test/integration/golden.test.js
//
// rewrites the goldens instead of comparing (review the diff: every figure in them is a claim).
// Needs root (mount, loop devices, mknod for whiteouts, trusted.* xattrs) and GNU tar, mkfs.ext4,
// losetup, du and GNU find.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { getAttributeSync } from '@napi-rs/xattr';
import { run } from '../support/dockerd.js';
import {
  FIXTURE_DIR, GOLDEN, RECORDING_JSON, ROOT_TAR, extractRecordedRoot, type ExtractedRoot, type Recording,
} from '../support/golden-root.js';
import { duB1, runReport, type ReportRun } from '../support/oracles.js';

const UPDATE = process.env.UPDATE_GOLDEN === '1';
const GOLDEN_JSON = path.join(FIXTURE_DIR, 'report.golden.json');
const GOLDEN_PROM = path.join(FIXTURE_DIR, 'report.golden.prom');
const GOLDEN_TEXT = path.join(FIXTURE_DIR, 'report.golden.txt');

// Placeholders for what depends on the run.
const ROOT_PH = '<DOCKER_ROOT>';
const MOUNTPOINT_PH = '<MOUNTPOINT>';
const LOOP_PH = '<LOOP_DEVICE>';
const DEVICE_PH = '<MAJOR:MINOR>';
const TIME_PH = '<TIMING>';

const API = 'unix:///nonexistent.sock';
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

// The subset of the report this test reads (kept here, not imported: the test speaks of the
// output, whatever the code that makes it is called).
interface Bytes {
  disk: number;
  apparent: number;
}
interface Report {
  dockerRoot: string;
  apiUp: boolean;
  filesystem: { mountpoint: string; fstype: string; source: string; device: string; size: number; avail: number } | null;
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
 * - scan.startedAt, scan.finishedAt, scan.durationSeconds, scan.collectors[].durationSeconds: clocks.
 * Nothing else was seen to vary: two scans of one extraction, scans of two extractions at paths of
 * different lengths, and the Node walker all gave the same bytes otherwise (filesystem.size and
 * .avail included, with the fixed mkfs options), so every figure, id, list order and error message
 * is compared as it is.
 */
function normaliseJson(stdout: string, x: ExtractedRoot): string {
  const r = JSON.parse(replaceAll(stdout, x.root, ROOT_PH)) as Report;
  assert.ok(r.filesystem, 'the report names the filesystem holding the root');
  assert.equal(r.filesystem.mountpoint, x.mountpoint, 'filesystem.mountpoint is the temp mount');
  assert.equal(r.filesystem.source, x.loop, 'filesystem.source is the loop device');
  assert.equal(r.filesystem.device, majorMinor(x.root), 'filesystem.device is the loop device');
  r.filesystem.mountpoint = MOUNTPOINT_PH;
  r.filesystem.source = LOOP_PH;
  r.filesystem.device = DEVICE_PH;
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
function normaliseProm(stdout: string, x: ExtractedRoot): string {
  const text = replaceAll(replaceAll(stdout, x.root, ROOT_PH), `mountpoint="${x.mountpoint}"`, `mountpoint="${MOUNTPOINT_PH}"`);
  const lines = text
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
function normaliseText(stdout: string, x: ExtractedRoot): string {
  const out = replaceAll(stdout, x.root, ROOT_PH);
  assert.ok(!out.includes(x.mountpoint), `nothing else names the temp mount ${x.mountpoint}`);
  return out;
}

/** Compares with a golden file, or rewrites it under UPDATE_GOLDEN=1. */
function checkGolden(file: string, actual: string, what: string): void {
  if (UPDATE) {
    writeFileSync(file, actual);
    return;
  }
  assert.ok(existsSync(file), `${file} is missing: make it with UPDATE_GOLDEN=1`);
  const expected = readFileSync(file, 'utf8');
  if (file.endsWith('.json')) {
    // A readable difference first, then byte for byte (key order, layout).
    assert.deepStrictEqual(JSON.parse(actual), JSON.parse(expected), `${what} differs from ${path.basename(file)}`);
  }
  assert.equal(actual, expected, `${what} differs from ${path.basename(file)}`);
}

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

function gnu(cmd: string): boolean {
  const r = spawnSync(cmd, ['--version'], { encoding: 'utf8' });
  return r.status === 0 && /GNU/.test(r.stdout);
}

function scanArgs(x: ExtractedRoot, format: string): string[] {
  return ['--format', format, '--docker-root', x.root, '--docker-host', API];
}

/** A run that must succeed: exit 0, and stderr only the unreachable API's one line. */
function assertRan(r: ReportRun, what: string): void {
  assert.equal(r.code, 0, `${what}: exit ${r.code} ${r.signal ?? ''}\n${r.stderr}`);
  const lines = r.stderr.split('\n').filter(Boolean);
  assert.deepEqual(
    lines,
    [`layerdu: docker-api: ${API}: unreachable, figures come from disk alone: no socket at /nonexistent.sock`],
    `${what}: stderr`,
  );
}

/** `du -sB1 -x`: the whole tree on its filesystem, each inode once. */
async function duX(...paths: string[]): Promise<number> {
  const out = await run('du', ['-sB1', '-x', '-c', ...paths]);
  const total = out.trim().split('\n').pop()!;
  const n = Number(total.split(/\s/)[0]);
  assert.ok(Number.isInteger(n), `du -sB1 -x -c ${paths.join(' ')}: ${out}`);
  return n;
}

/** The contract's apparent rule, computed here: st_size of non-directories with size > 0, each inode once. */
function apparentOf(dir: string): number {
  let sum = 0;
  const seen = new Set<bigint>();
  const visit = (p: string): void => {
    const st = lstatSync(p, { bigint: true });
    if (st.isDirectory()) {
      for (const n of readdirSync(p)) visit(path.join(p, n));
      return;
    }
    if (seen.has(st.ino)) return;
    seen.add(st.ino);
    if (st.size > 0n) sum += Number(st.size);
  };
  visit(dir);
  return sum;
}

const blocksOf = (p: string): number => lstatSync(p).blocks * 512;

describe('golden: a recorded docker root scanned with no daemon', function () {
  this.timeout(120_000);
  let x: ExtractedRoot | null = null;
  let onExit: (() => void) | null = null;
  let find: Report;
  let recording: Recording;

  before(async function () {
    if (process.getuid?.() !== 0) this.skip();
    for (const cmd of ['mkfs.ext4', 'losetup', 'mount', 'umount', 'truncate', 'du', 'sync']) {
      if (!have(cmd)) this.skip();
    }
    assert.ok(gnu('tar'), 'GNU tar is needed (xattrs, sparse files)');
    assert.ok(gnu('find'), 'GNU find is needed: the default walker, the first of the two compared');
    assert.ok(existsSync(ROOT_TAR), `${ROOT_TAR} is missing: record it with npm run record-root`);
    recording = JSON.parse(readFileSync(RECORDING_JSON, 'utf8')) as Recording;
    const work = await mkdtemp(path.join(tmpdir(), 'ldu-golden-'));
    x = await extractRecordedRoot(work);
    // Should the run end before the after hook (process.exit, Ctrl-C, kill): undo it anyway.
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

  /** Cleans up at once; then exits, unless another handler (test/support/hooks.ts) will. */
  function onSignal(sig: NodeJS.Signals): void {
    x?.cleanUpSync();
    if (process.listenerCount(sig) === 0) process.exit(130);
  }

  it('--format json (GNU find walker) matches report.golden.json', async function () {
    const r = await runReport<Report>(scanArgs(x!, 'json'), { env: { LAYERDU_WALKER: '' } });
    assertRan(r, 'json, find');
    assert.ok(r.json, `stdout is JSON: ${r.jsonError}`);
    find = r.json;
    checkGolden(GOLDEN_JSON, normaliseJson(r.stdout, x!), 'the JSON report (find walker)');
  });

  it('--format json with LAYERDU_WALKER=node matches the same golden', async function () {
    const r = await runReport<Report>(scanArgs(x!, 'json'), { env: { LAYERDU_WALKER: 'node' } });
    assertRan(r, 'json, node walker');
    if (UPDATE) return; // the golden was just written from the find walker's run: compare with it
    checkGolden(GOLDEN_JSON, normaliseJson(r.stdout, x!), 'the JSON report (node walker)');
  });

  it('a second scan of the same root gives the same normalised JSON', async function () {
    const r = await runReport<Report>(scanArgs(x!, 'json'), { env: { LAYERDU_WALKER: '' } });
    assertRan(r, 'json, again');
    assert.equal(normaliseJson(r.stdout, x!), readFileSync(GOLDEN_JSON, 'utf8'));
  });

  it('--format prom matches report.golden.prom', async function () {
    const r = await runReport(scanArgs(x!, 'prom'), { env: { LAYERDU_WALKER: '' } });
    assertRan(r, 'prom');
    checkGolden(GOLDEN_PROM, normaliseProm(r.stdout, x!), 'the prom report');
  });

  it('--format text matches report.golden.txt', async function () {
    const r = await runReport(scanArgs(x!, 'text'), { env: { LAYERDU_WALKER: '' } });
    assertRan(r, 'text');
    checkGolden(GOLDEN_TEXT, normaliseText(r.stdout, x!), 'the text report');
  });

  describe('the golden figures against independent oracles', function () {
    const root = (): string => x!.root;
    const o2 = (...p: string[]): string => path.join(root(), 'overlay2', ...p);
    const layerOf = (chainId: string) => {
      const l = find.layers.find((y) => y.chainId === chainId);
      assert.ok(l, `layer ${chainId} is reported`);
      return l;
    };
    const image = (key: keyof Recording['images'] & string) => {
      const rec = recording.images[key]!;
      const i = find.images.find((y) => y.id === rec.id);
      assert.ok(i, `image ${rec.tag} (${rec.id}) is reported`);
      return { rec, rep: i };
    };
    const cacheDir = (chainId: string): string => {
      const c = layerOf(chainId).cacheId;
      assert.ok(c, `layer ${chainId} has a cache id`);
      return c;
    };
    const mountId = (containerId: string): string =>
      readFileSync(path.join(root(), 'image', 'overlay2', 'layerdb', 'mounts', containerId, 'mount-id'), 'utf8').trim();

    before(function () {
      if (!find) this.skip(); // the first scan failed: nothing to check
    });

    it('totals.disk.total is du -sB1 -x of the root, and the categories add up to it', async function () {
      assert.equal(find.totals.disk.total, await duX(root()));
      const { total, ...parts } = find.totals.disk;
      assert.equal(Object.values(parts).reduce((a, b) => a + b, 0), total);
      const { total: at, ...aparts } = find.totals.apparent;
      assert.equal(Object.values(aparts).reduce((a, b) => a + b, 0), at);
    });

    it("each layer's disk is du -sB1 of overlay2/<cacheId>/diff; its apparent is Docker's layerdb size", async function () {
      assert.equal(find.layers.length, Object.keys(recording.layerdb).length, 'every layerdb entry is a layer');
      for (const l of find.layers) {
        const db = recording.layerdb[l.chainId];
        assert.ok(db, `${l.chainId} is in the recorded layerdb`);
        assert.equal(l.cacheId, db.cacheId, `${l.chainId}: cache id`);
        assert.equal(l.diffId, db.diffId, `${l.chainId}: diff id`);
        assert.equal(l.disk, await duB1(o2(l.cacheId!, 'diff')), `${l.chainId}: disk = du of diff/`);
        assert.equal(l.apparent, db.size, `${l.chainId}: apparent = layerdb size`);
        assert.equal(l.apparent, apparentOf(o2(l.cacheId!, 'diff')), `${l.chainId}: apparent = st_size sum here`);
      }
      const sum = find.layers.reduce((a, l) => a + l.disk, 0);
      assert.equal(find.totals.disk.imageLayers, sum, 'imageLayers is every layer once');
    });

    it('the orphan is the leaked directory, and its disk is du -sB1 of it', async function () {
      assert.deepEqual(find.orphans.map((o) => o.id), [recording.leaked.id]);
      const o = find.orphans[0]!;
      assert.equal(o.path, o2(o.id));
      assert.equal(o.disk, await duB1(o2(o.id)));
      assert.equal(o.apparent, GOLDEN.leakedBytes, 'apparent: the one leaked file');
      assert.equal(find.totals.disk.orphans, o.disk);
    });

    it('ids, tags and sharing are what Docker recorded', function () {
      const recImages = Object.values(recording.images);
      assert.deepEqual(
        find.images.map((i) => [i.id, i.tags]).sort(),
        recImages.map((i) => [i.id, [i.tag]]).sort(),
      );
      for (const rec of recImages) {
        const rep = find.images.find((i) => i.id === rec.id)!;
        assert.deepEqual(rep.layers, rec.chainIds, `${rec.tag}: layers, bottom first`);
        assert.equal(rep.disk.total, rep.layers.reduce((a, c) => a + layerOf(c).disk, 0), `${rec.tag}: disk.total`);
        const shared = rep.layers.filter((c) => layerOf(c).images.length >= 2);
        assert.equal(rep.disk.shared, shared.reduce((a, c) => a + layerOf(c).disk, 0), `${rec.tag}: disk.shared`);
        assert.equal(rep.disk.unique, rep.disk.total - rep.disk.shared);
      }
      const { rec: a } = image('sharedA');
      const { rec: b } = image('sharedB');
      assert.equal(a.chainIds[1], b.chainIds[1], 'shared-a and shared-b share the middle layer');
      assert.equal(layerOf(a.chainIds[1]!).images.length, 2);
      assert.equal(layerOf(a.chainIds[1]!).apparent, GOLDEN.midBytes);
      assert.equal(layerOf(a.chainIds[0]!).images.length, recImages.length, 'every image holds the base layer');
      const cs = Object.values(recording.containers);
      assert.deepEqual(
        find.containers.map((c) => [c.id, c.name, c.imageId]).sort(),
        cs.map((c) => [c.id, c.name, c.imageId]).sort(),
      );
      const state = Object.fromEntries(find.containers.map((c) => [c.name, c.state]));
      assert.deepEqual(state, { copyup: 'exited', created: 'created', logger: 'exited' });
    });

    it("apparent figures are Docker's own (GET /system/df at recording time)", function () {
      const df = recording.systemDf as {
        LayersSize: number;
        Images: Array<{ Id: string; Size: number; SharedSize: number; Containers: number }>;
        Containers: Array<{ Id: string; SizeRw?: number; SizeRootFs?: number }>;
        Volumes: Array<{ Name: string; UsageData: { Size: number } | null }>;
      };
      assert.equal(find.totals.apparent.imageLayers, df.LayersSize, 'LayersSize');
      for (const d of df.Images) {
        const i = find.images.find((y) => y.id === d.Id);
        assert.ok(i, d.Id);
        assert.equal(i.apparent.total, d.Size, `${d.Id}: Size`);
        assert.equal(i.apparent.shared, d.SharedSize, `${d.Id}: SharedSize`);
        assert.equal(i.containers, d.Containers, `${d.Id}: Containers`);
      }
      let virtual = df.Images.reduce((a, d) => a + d.Size, 0);
      for (const d of df.Containers) {
        const c = find.containers.find((y) => y.id === d.Id);
        assert.ok(c, d.Id);
        assert.equal(c.writable.apparent, d.SizeRw ?? 0, `${d.Id}: SizeRw`);
        virtual += d.SizeRootFs ?? 0;
      }
      assert.equal(find.totals.naiveVirtual, virtual, 'naiveVirtual: Σ image Size + Σ container SizeRootFs');
      for (const d of df.Volumes) {
        const v = find.volumes.find((y) => y.name === d.Name);
        assert.ok(v, d.Name);
        assert.equal(v.apparent, d.UsageData?.Size, `${d.Name}: UsageData.Size`);
      }
    });

    it('waste is the removed, overwritten and opaque-hidden files, on both bases', function () {
      const { rec: waste, rep: w } = image('waste');
      // COPY small.bin, then RUN rm: the lower copy, and only it, is wasted.
      const copied = o2(cacheDir(waste.chainIds[1]!), 'diff', 'small.bin');
      assert.deepEqual(w.wasted, { disk: blocksOf(copied), apparent: GOLDEN.removedBytes });
      const wh = lstatSync(o2(cacheDir(waste.chainIds[2]!), 'diff', 'small.bin'));
      assert.ok(wh.isCharacterDevice() && wh.rdev === 0, 'the rm left a 0/0 whiteout (the tar kept it)');

      const { rec: ow, rep: o } = image('overwrite');
      const first = o2(cacheDir(ow.chainIds[1]!), 'diff', 'two.bin');
      assert.deepEqual(o.wasted, { disk: blocksOf(first), apparent: GOLDEN.overwrittenBytes });

      const { rec: op, rep: p } = image('opaque');
      const lower = o2(cacheDir(op.chainIds[1]!), 'diff', 'd');
      assert.deepEqual(p.wasted, {
        disk: blocksOf(path.join(lower, 'big.bin')) + blocksOf(path.join(lower, 'keep.txt')),
        apparent: GOLDEN.opaqueBigBytes + GOLDEN.opaqueKeepText.length,
      });
      const opq = getAttributeSync(o2(cacheDir(op.chainIds[2]!), 'diff', 'd'), 'trusted.overlay.opaque');
      assert.equal(opq?.toString(), 'y', 'the upper /d is opaque (the tar kept the xattr)');

      for (const key of ['base', 'sharedA', 'sharedB', 'hardlink', 'buildkit'] as const) {
        assert.deepEqual(image(key).rep.wasted, { disk: 0, apparent: 0 }, `${key}: nothing hidden`);
      }
    });

    it('the hardlinked file counts once', function () {
      const { rec, rep } = image('hardlink');
      const dir = o2(cacheDir(rec.chainIds[1]!), 'diff');
      const h1 = lstatSync(path.join(dir, 'h1.bin'));
      assert.equal(h1.ino, lstatSync(path.join(dir, 'h2.bin')).ino, 'one inode (the tar kept the hardlink)');
      assert.equal(layerOf(rec.chainIds[1]!).apparent, GOLDEN.hardlinkBytes);
      assert.equal(rep.apparent.unique, GOLDEN.hardlinkBytes);
    });

    it('containers: writable and init are du of their layers, copy-up the copied file, logs the json log', async function () {
      for (const c of find.containers) {
        const m = mountId(c.id);
        assert.equal(c.writable.disk, await duB1(o2(m, 'diff')), `${c.name}: writable = du of diff/`);
        assert.equal(c.writable.apparent, apparentOf(o2(m, 'diff')), `${c.name}: writable apparent`);
        assert.equal(c.init.disk, await duB1(o2(`${m}-init`, 'diff')), `${c.name}: init = du of -init/diff/`);
        const log = path.join(root(), 'containers', c.id, `${c.id}-json.log`);
        const st = existsSync(log) ? lstatSync(log) : null;
        assert.equal(c.logs, st ? st.blocks * 512 : 0, `${c.name}: logs`);
        assert.equal(c.logsApparent, st ? st.size : 0, `${c.name}: logs apparent`);
      }
      const copyUp = find.containers.find((c) => c.name === 'copyup')!;
      const copied = o2(mountId(copyUp.id), 'diff', 'two.bin');
      assert.deepEqual(copyUp.copiedUp, { disk: blocksOf(copied), apparent: GOLDEN.overwrittenBytes + GOLDEN.copyUpAppend.length });
      for (const c of find.containers.filter((y) => y.name !== 'copyup')) {
        assert.deepEqual(c.copiedUp, { disk: 0, apparent: 0 }, `${c.name}: nothing copied up`);
      }
      const logger = find.containers.find((c) => c.name === 'logger')!;
      const lines = readFileSync(path.join(root(), 'containers', logger.id, `${logger.id}-json.log`), 'utf8').trim().split('\n');
      assert.equal(lines.length, GOLDEN.logLines, 'the logger logged what the recording printed');
      assert.equal(find.totals.disk.logs, logger.logs);
    });

    it("the volume is du of its _data, used by the logger", async function () {
      assert.equal(find.volumes.length, 1);
      const v = find.volumes[0]!;
      assert.equal(v.name, GOLDEN.volumeName);
      assert.equal(v.disk, await duB1(path.join(root(), 'volumes', v.name, '_data')));
      assert.equal(v.apparent, GOLDEN.volumeBytes);
      assert.deepEqual(v.containers, [recording.containers.logger!.id]);
    });

    it("build cache is BuildKit's store plus the 25-character directories no layer names", async function () {
      const cacheIds = new Set(Object.values(recording.layerdb).map((l) => l.cacheId));
      const cacheDirs = recording.buildKitDirs.filter((d) => !cacheIds.has(d));
      assert.ok(cacheDirs.length > 0, 'the BuildKit build left cache directories');
      assert.ok(recording.buildKitDirs.some((d) => cacheIds.has(d)), "BuildKit's image layers keep 25-character cache ids");
      const { rec } = image('buildkit');
      assert.equal(cacheDir(rec.chainIds[1]!).length, 25);
      assert.equal(find.buildCache.dirs, cacheDirs.length);
      assert.equal(find.buildCache.disk, await duX(path.join(root(), 'buildkit'), ...cacheDirs.map((d) => o2(d))));
      assert.equal(find.totals.disk.buildCache, find.buildCache.disk);
    });

    it('errors: only the unreachable API', function () {
      assert.equal(find.apiUp, false);
      assert.deepEqual(find.errors, [
        { source: 'docker-api', path: API, message: 'unreachable, figures come from disk alone: no socket at /nonexistent.sock' },
      ]);
    });
  });
});
