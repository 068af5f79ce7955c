// The golden figures against independent oracles: the recorded docker root (see golden.test.ts,
// which compares the whole output with the goldens) is extracted onto a fresh loop-mounted ext4
// and scanned once with the GNU find walker, and that report's figures are checked against du on
// the extracted tree and against what Docker itself said when the root was recorded
// (test/fixtures/docker-root/recording.json). Needs root and the tools golden.test.ts needs.
import assert from 'node:assert/strict';
import { existsSync, lstatSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { getAttributeSync } from '@napi-rs/xattr';
import { run } from '../support/dockerd.js';
import { GOLDEN, RECORDING_JSON, type Recording } from '../support/golden-root.js';
import { API, assertRan, scanArgs, useRecordedRoot, type Report } from '../support/golden-run.js';
import { duB1, runReport } from '../support/oracles.js';

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
  const x = useRecordedRoot();
  let find: Report;
  let recording: Recording;

  describe('the golden figures against independent oracles', function () {
    const root = (): string => x().root;
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

    before(async function () {
      recording = JSON.parse(readFileSync(RECORDING_JSON, 'utf8')) as Recording;
      const r = await runReport<Report>(scanArgs(x(), 'json'), { env: { LAYERDU_WALKER: '' } });
      assertRan(r, 'json, find');
      assert.ok(r.json, `stdout is JSON: ${r.jsonError}`);
      find = r.json;
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
