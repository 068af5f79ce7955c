// Acceptance tests of the core issue: `layerdu --report --format json` on a real overlay2 host,
// compared, to the byte, with Docker's own answers (GET /system/df, /containers/json?size=1,
// layerdb) and with du.
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, readdir, rm, stat, unlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { Report } from '../../agent/model/report.js';
import { makeBaseImage, run, startDaemon, type Daemon } from '../support/dockerd.js';
import {
  HARDLINK_BYTES,
  OPAQUE_HIDDEN_APPARENT,
  LEAKED_BYTES,
  SIX_BYTES,
  VOLUME_BYTES,
  WASTED_APPARENT,
  buildClassic,
  getFixture,
  layerDbDir,
  logFiles,
  mountOf,
  readLayerDb,
  type Fixture,
  type FixtureImage,
} from '../support/fixture-host.js';
import {
  WITHOUT_DAC,
  containersWithSize,
  duB1,
  duB1CountingLinks,
  duB1Each,
  duB1Excluding,
  lines,
  runReport,
  sumSizes,
  systemDf,
  type ReportRun,
} from '../support/oracles.js';

const NO_API = 'unix:///nonexistent.sock';

/** Runs the report and insists on exit 0 and a JSON object on stdout. */
async function reportJson(args: string[], opts: Parameters<typeof runReport>[1] = {}): Promise<ReportRun<Report> & { json: Report }> {
  const r = await runReport<Report>(['--format', 'json', ...args], opts);
  assert.equal(r.code, 0, `layerdu --report ${args.join(' ')} exited ${r.code ?? r.signal}; stderr:\n${r.stderr}`);
  assert.ok(r.json, `stdout is not JSON (${r.jsonError}): ${r.stdout.slice(0, 500)}`);
  return r as ReportRun<Report> & { json: Report };
}

function byId<T extends { id: string }>(xs: T[]): Map<string, T> {
  return new Map(xs.map((x) => [x.id, x]));
}

function sortBy<T>(xs: T[], key: (x: T) => string): T[] {
  return [...xs].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

describe('layerdu --report on a real overlay2 host', function () {
  let fx: Fixture;
  let upRun: Promise<ReportRun<Report> & { json: Report }> | null = null;
  /** The API-up report, run once and shared (each test fails on its own if it fails). */
  const up = async (): Promise<Report> => {
    upRun ??= reportJson(['--docker-root', fx.root, '--docker-host', fx.host]);
    return (await upRun).json;
  };

  /**
   * A fresh API-up report with `measure` (a du) taken before and after it, once the two agree: the
   * daemon writes into its root now and then (BuildKit stores the sizes of its cache records in
   * buildkit/*.db the first time /system/df asks for them, filling holes of those sparse files),
   * and then there is no one figure to compare with. Three tries at most.
   */
  async function reportBetween<T>(measure: () => Promise<T>): Promise<{ rep: Report; measured: T }> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const before = await measure();
      const rep = (await reportJson(['--docker-root', fx.root, '--docker-host', fx.host])).json;
      if (JSON.stringify(await measure()) === JSON.stringify(before)) return { rep, measured: before };
    }
    throw new Error('the docker root kept changing during the report');
  }

  before(async function () {
    fx = await getFixture();
  });

  it('1. images: apparent total and shared equal Size and SharedSize of GET /system/df, to the byte', async function () {
    const rep = await up();
    const df = await systemDf(fx.daemon);
    assert.equal(rep.apiUp, true);
    assert.deepEqual(
      rep.images.map((i) => i.id).sort(),
      df.Images.map((i) => i.Id).sort(),
      'the listed images are the /system/df images',
    );
    const mine = byId(rep.images);
    for (const d of df.Images) {
      const img = mine.get(d.Id)!;
      const name = `${d.RepoTags?.[0] ?? d.Id}`;
      assert.equal(img.apparent.total, d.Size, `${name}: apparent.total`);
      assert.equal(img.apparent.shared, d.SharedSize, `${name}: apparent.shared`);
      assert.equal(img.apparent.unique, d.Size - d.SharedSize, `${name}: apparent.unique`);
      assert.equal(img.containers, d.Containers, `${name}: containers`);
      assert.deepEqual([...img.tags].sort(), [...(d.RepoTags ?? [])].sort(), `${name}: tags`);
    }
    // The fixture's own expectations, so that a wrong fixture cannot make this pass vacuously.
    const a = mine.get(fx.images.sharedA.id)!;
    const b = mine.get(fx.images.sharedB.id)!;
    assert.equal(a.apparent.shared, b.apparent.shared);
    assert.deepEqual(a.layers, fx.images.sharedA.chainIds);
    assert.deepEqual(b.layers, fx.images.sharedB.chainIds);
    assert.deepEqual(a.layers.slice(0, 2), b.layers.slice(0, 2));
  });

  it('2. layers: disk equals du -sB1 of overlay2/<cacheId>/diff; orphans: disk equals du of their path', async function () {
    const rep = await up();
    const layerdb = await readLayerDb(fx.root);
    assert.deepEqual(
      rep.layers.map((l) => l.chainId).sort(),
      [...layerdb.keys()].sort(),
      'layers holds every layerdb layer once',
    );
    for (const l of rep.layers) {
      const db = layerdb.get(l.chainId)!;
      assert.equal(l.cacheId, db.cacheId, `${l.chainId}: cacheId`);
      assert.equal(l.diffId, db.diffId, `${l.chainId}: diffId`);
      const du = await duB1(path.join(fx.root, 'overlay2', db.cacheId!, 'diff'));
      assert.equal(l.disk, du, `${l.chainId} (${db.cacheId}): disk vs du -sB1`);
      assert.equal(l.apparent, db.size, `${l.chainId}: apparent vs layerdb size`);
    }
    assert.equal(rep.orphans.length, 1, 'the leaked directory, and nothing else');
    for (const o of rep.orphans) {
      assert.equal(o.disk, await duB1(o.path), `orphan ${o.path}: disk vs du -sB1`);
    }
  });

  it('3. containers: writable.apparent equals SizeRw; copy-up and logs are counted', async function () {
    const rep = await up();
    const api = await containersWithSize(fx.daemon);
    assert.deepEqual(rep.containers.map((c) => c.id).sort(), api.map((c) => c.Id).sort());
    const mine = byId(rep.containers);
    for (const c of api) {
      const r = mine.get(c.Id)!;
      // Docker omits SizeRw when it is 0.
      assert.equal(r.writable.apparent, c.SizeRw ?? 0, `${c.Names[0]}: writable.apparent vs SizeRw`);
      assert.equal(r.imageId, c.ImageID, `${c.Names[0]}: imageId`);
      assert.equal(r.state, c.State, `${c.Names[0]}: state`);
    }
    const copyUp = mine.get(fx.containers.copyUp.id)!;
    assert.equal(copyUp.writable.apparent, SIX_BYTES + 2);
    // Appending to /data/six.bin copied it and /data up, and that is all the writable layer holds:
    // both paths are the image's, so all of it is copy-up.
    const upper = path.join(fx.root, 'overlay2', (await mountOf(fx.root, copyUp.id)).mountId, 'diff');
    assert.deepEqual(await readdir(upper), ['data']);
    assert.deepEqual(await readdir(path.join(upper, 'data')), ['six.bin']);
    assert.equal(copyUp.copiedUp.apparent, SIX_BYTES + 2, 'six.bin as it is now');
    assert.equal(copyUp.copiedUp.disk, await duB1(path.join(upper, 'data')), 'copiedUp.disk vs du -sB1 of the copied-up /data');
    for (const c of [fx.containers.created, fx.containers.logger, fx.containers.running]) {
      assert.equal(mine.get(c.id)!.copiedUp.apparent, 0, `${c.name}: copiedUp`);
    }

    const logger = mine.get(fx.containers.logger.id)!;
    const files = await logFiles(fx.root, fx.containers.logger.id);
    assert.equal(files.length, 1, 'no max-size: one log file');
    let du = 0;
    for (const f of files) du += await duB1(f);
    assert.equal(logger.logs, du, 'logs vs du -sB1 of the json-file logs');
    assert.equal(logger.logsApparent, await sumSizes(files), 'logsApparent vs st_size of the logs');
    // st_size above is the exact check; json-file's timestamps have no fixed width, so the size of
    // the 20000 lines is not known beforehand: this only says the log is all there, not empty.
    assert.ok(logger.logsApparent > 20000 * 20);
    const created = mine.get(fx.containers.created.id)!;
    assert.equal(created.logs, 0);

    // Rotated and compressed logs (max-file=4, compress=true) count too, every file once.
    const rotated = mine.get(fx.containers.rotated.id)!;
    const rotatedFiles = await logFiles(fx.root, fx.containers.rotated.id);
    // max-file=4: the live log and three rotated ones, all compressed (the fixture waits for gzip).
    const rotatedLog = `${fx.containers.rotated.id}-json.log`;
    assert.deepEqual(
      rotatedFiles.map((f) => path.basename(f)),
      [rotatedLog, `${rotatedLog}.1.gz`, `${rotatedLog}.2.gz`, `${rotatedLog}.3.gz`],
    );
    let rotatedDu = 0;
    for (const f of rotatedFiles) rotatedDu += await duB1(f);
    assert.equal(rotated.logs, rotatedDu, 'logs vs du -sB1 of the live and rotated logs');
    assert.equal(rotated.logsApparent, await sumSizes(rotatedFiles));
  });

  it('4. waste: 8 MiB removed plus 2 MiB overwritten, counted once', async function () {
    const rep = await up();
    const waste = byId(rep.images).get(fx.images.waste.id);
    assert.ok(waste, 'waste image listed');
    assert.equal(waste.wasted.apparent, WASTED_APPARENT);
    // On disk: the blocks of the two hidden files, /eight.bin in the COPY layer and the first
    // /two.bin (layers: base, COPY, RUN rm, RUN two.bin, RUN two.bin).
    const db = await readLayerDb(fx.root);
    const diff = (chainId: string) => path.join(fx.root, 'overlay2', db.get(chainId)!.cacheId!, 'diff');
    const chains = fx.images.waste.chainIds;
    const hidden = (await duB1(path.join(diff(chains[1]!), 'eight.bin'))) + (await duB1(path.join(diff(chains[3]!), 'two.bin')));
    assert.equal(waste.wasted.disk, hidden, 'wasted.disk vs du -sB1 of the hidden files');
    for (const img of [fx.images.sharedA, fx.images.hardlink, fx.images.six, fx.images.base]) {
      assert.equal(byId(rep.images).get(img.id)!.wasted.apparent, 0, `${img.tag}: wasted`);
    }
  });

  it('4b. waste under an opaque directory: a later RUN replacing /data wholesale wastes both lower files', async function () {
    const rep = await up();
    const opaque = byId(rep.images).get(fx.images.opaque.id);
    assert.ok(opaque, 'opaque image listed');
    // The opaque /data hides /data/big.bin and /data/keep.txt, not the lower /data itself.
    assert.equal(opaque.wasted.apparent, OPAQUE_HIDDEN_APPARENT);
    const db = await readLayerDb(fx.root);
    const lower = path.join(fx.root, 'overlay2', db.get(fx.images.opaque.chainIds[1]!)!.cacheId!, 'diff', 'data');
    const hidden = (await duB1(path.join(lower, 'big.bin'))) + (await duB1(path.join(lower, 'keep.txt')));
    assert.equal(opaque.wasted.disk, hidden);
  });

  it('5. hardlinks once; volumes; build cache; the leaked directory is the only orphan', async function () {
    const rep = await up();
    // hardlink: one 2 MiB file with two names, counted once, as Docker's layerdb does
    const top = fx.images.hardlink.chainIds.at(-1)!;
    const layer = rep.layers.find((l) => l.chainId === top);
    assert.ok(layer, `hardlink top layer ${top} in layers`);
    const sizeFile = path.join(layerDbDir(fx.root, top), 'size');
    assert.equal(layer.apparent, Number((await readFile(sizeFile, 'utf8')).trim()));
    assert.equal(layer.apparent, HARDLINK_BYTES);
    // On disk, the second name adds nothing: du -l (every name counted) less one copy of the inode.
    const diff = path.join(fx.root, 'overlay2', layer.cacheId!, 'diff');
    const h1 = await stat(path.join(diff, 'h1.bin'));
    assert.equal(h1.nlink, 2);
    assert.equal(layer.disk, (await duB1CountingLinks(diff)) - h1.blocks * 512, `hardlink layer disk ${layer.disk}`);

    // the named volume
    const vol = rep.volumes.find((v) => v.name === fx.volume.name);
    assert.ok(vol, `volume ${fx.volume.name} reported`);
    assert.equal(vol.apparent, VOLUME_BYTES, 'the one file written into it');
    assert.equal(vol.disk, await duB1(fx.volume.mountpoint));
    assert.deepEqual(vol.containers, [fx.containers.logger.id]);

    // build cache: BuildKit's 25-character snapshot directories are not orphans
    assert.equal(rep.buildCache.dirs, fx.buildCacheDirs.length, `buildCache.dirs vs ${fx.buildCacheDirs.join(' ')}`);
    // BuildKit's own store and its snapshot directories, each walked whole (BuildKit may write to
    // its store after the shared report: a fresh one, between two du).
    const buildCachePaths = [path.join(fx.root, 'buildkit'), ...fx.buildCacheDirs.map((d) => path.join(fx.root, 'overlay2', d))];
    const fresh = await reportBetween(() => duB1Each(buildCachePaths));
    assert.equal(fresh.rep.buildCache.disk, fresh.measured, 'buildCache.disk vs du -sB1 of buildkit/ and the snapshot directories');
    for (const o of rep.orphans) {
      assert.notEqual(o.id.length, 25, `BuildKit directory ${o.id} taken for an orphan`);
      assert.ok(!fx.buildKitDirs.includes(path.basename(o.path)), `${o.path} is BuildKit's`);
    }

    // orphans: exactly the leaked directory
    assert.deepEqual(
      rep.orphans.map((o) => ({ id: o.id, path: o.path })),
      [{ id: fx.leaked.id, path: fx.leaked.path }],
    );
    assert.equal(rep.orphans[0]!.apparent, LEAKED_BYTES);
    assert.equal(rep.orphans[0]!.disk, await duB1(fx.leaked.path));
  });

  it('6. without the API: exit 0, one line on stderr, the same images, layers and sizes', async function () {
    const withApi = await up();
    const r = await reportJson(['--docker-root', fx.root, '--docker-host', NO_API]);
    const rep = r.json;
    const errLines = lines(r.stderr);
    assert.equal(errLines.length, 1, `stderr should be one line, was:\n${r.stderr}`);
    assert.match(errLines[0]!, /api|nonexistent\.sock/i);
    assert.equal(rep.apiUp, false);

    const images = (x: Report) =>
      sortBy(x.images, (i) => i.id).map((i) => ({
        id: i.id,
        tags: [...i.tags].sort(),
        layers: i.layers,
        disk: i.disk,
        apparent: i.apparent,
        wasted: i.wasted,
        containers: i.containers,
      }));
    const layers = (x: Report) =>
      sortBy(x.layers, (l) => l.chainId).map((l) => ({
        ...l,
        images: [...l.images].sort(),
        containers: [...l.containers].sort(),
      }));
    const containers = (x: Report) =>
      sortBy(x.containers, (c) => c.id).map((c) => ({
        id: c.id,
        imageId: c.imageId,
        writable: c.writable,
        init: c.init,
        copiedUp: c.copiedUp,
        logs: c.logs,
        logsApparent: c.logsApparent,
      }));
    const volumes = (x: Report) =>
      sortBy(x.volumes, (v) => v.name).map((v) => ({ ...v, containers: [...v.containers].sort() }));
    const orphans = (x: Report) => sortBy(x.orphans, (o) => o.id);

    assert.deepEqual(images(rep), images(withApi));
    assert.deepEqual(layers(rep), layers(withApi));
    assert.deepEqual(containers(rep), containers(withApi));
    assert.deepEqual(volumes(rep), volumes(withApi));
    assert.deepEqual(orphans(rep), orphans(withApi));
    assert.equal(rep.images.length, Object.keys(fx.images).length);
  });

  it('every byte once: the categories add up to du -sB1 -x of the whole docker root', async function () {
    // other: the root less what the categories walk (layer diffs, container layers, build cache and
    // orphan directories, buildkit/, volumes' _data, logs), each left out of one du.
    const overlay = (id: string) => path.join(fx.root, 'overlay2', id);
    const containers = Object.values(fx.containers).map((c) => c.id);
    const mounts = await Promise.all(containers.map((id) => mountOf(fx.root, id)));
    const walked = [
      ...[...fx.layerdb.values()].map((l) => path.join(overlay(l.cacheId!), 'diff')),
      ...mounts.flatMap((m) => [m.mountId, ...(m.initId ? [m.initId] : [])]).map((id) => path.join(overlay(id), 'diff')),
      ...fx.buildCacheDirs.map(overlay),
      fx.leaked.path,
      path.join(fx.root, 'buildkit'),
      fx.volume.mountpoint,
      ...(await Promise.all(containers.map((id) => logFiles(fx.root, id)))).flat(),
    ];
    // -x: a running container's merged/ and shm are other filesystems, which layerdu does not enter either.
    const { rep, measured } = await reportBetween(async () => ({
      root: Number((await run('du', ['-sB1', '-x', fx.root])).split('\t')[0]),
      other: await duB1Excluding(fx.root, walked),
    }));
    const t = rep.totals.disk;
    assert.equal(t.total, t.imageLayers + t.containerLayers + t.volumes + t.logs + t.buildCache + t.orphans + t.other);
    assert.equal(t.total, measured.root, `layerdu ${t.total} against du ${measured.root} (off by ${t.total - measured.root})`);
    assert.equal(t.other, measured.other, 'other vs du -sB1 -x of the root without what the categories walk');
  });
});

describe('layerdu --report on a damaged docker root', function () {
  let d: Daemon | null = null;
  let root = '';
  let garbled: FixtureImage;
  let nocache: FixtureImage;
  let badjson: FixtureImage;
  let locked: FixtureImage;
  let lockedDir = '';
  let unreadableRoot = '';
  const GARBAGE = 'GARBAGE-not-a-cache-id';

  before(async function () {
    root = await mkdtemp('/tmp/ldu-');
    d = await startDaemon({ dataRoot: root });
    await makeBaseImage(d, 'base:latest');
    [garbled, nocache, badjson, locked] = await Promise.all([
      buildClassic(d, 'garbled:latest', 'FROM base:latest\nRUN echo garbled > /g.txt\n'),
      buildClassic(d, 'nocache:latest', 'FROM base:latest\nRUN echo nocache > /n.txt\n'),
      buildClassic(d, 'badjson:latest', 'FROM base:latest\nRUN echo badjson > /j.txt\n'),
      buildClassic(
        d,
        'locked:latest',
        'FROM base:latest\nRUN mkdir -p /locked/inner && head -c 100000 /dev/urandom > /locked/inner/secret.bin\n',
      ),
    ]);
    await d.stop(); // the root stays: we made it
    d = null;

    const layerdb = await readLayerDb(root);
    // 1. garbage in one layer's cache-id
    await writeFile(path.join(layerDbDir(root, garbled.chainIds.at(-1)!), 'cache-id'), GARBAGE);
    // 2. another layer's cache-id deleted
    await unlink(path.join(layerDbDir(root, nocache.chainIds.at(-1)!), 'cache-id'));
    // 3. an imagedb content file that is not JSON
    await writeFile(
      path.join(root, 'image', 'overlay2', 'imagedb', 'content', 'sha256', badjson.id.replace(/^sha256:/, '')),
      'this is not JSON {',
    );
    // 4. a layer's diff subdirectory nobody may read
    const lockedCache = layerdb.get(locked.chainIds.at(-1)!)!.cacheId!;
    lockedDir = path.join(root, 'overlay2', lockedCache, 'diff', 'locked');
    await chmod(lockedDir, 0o000);

    unreadableRoot = await mkdtemp('/tmp/ldu-unreadable-');
    await chmod(unreadableRoot, 0o000);
  });

  after(async function () {
    if (d) await d.stop().catch(() => undefined);
    if (lockedDir) await chmod(lockedDir, 0o755).catch(() => undefined);
    if (root) await rm(root, { recursive: true, force: true });
    if (unreadableRoot) {
      await chmod(unreadableRoot, 0o755).catch(() => undefined);
      await rm(unreadableRoot, { recursive: true, force: true });
    }
  });

  it('7a. goes on past each problem: exit 0, each named once in errors and once on stderr', async function () {
    const r = await reportJson(['--docker-root', root, '--docker-host', NO_API], { wrap: WITHOUT_DAC });
    const rep = r.json;
    assert.ok(Array.isArray(rep.errors), 'errors is an array');
    const hex = (id: string) => id.replace(/^sha256:/, '');
    const problems: Array<{ what: string; keys: string[] }> = [
      {
        what: 'garbage cache-id',
        keys: [`layerdb/sha256/${hex(garbled.chainIds.at(-1)!)}`, GARBAGE],
      },
      { what: 'missing cache-id', keys: [`layerdb/sha256/${hex(nocache.chainIds.at(-1)!)}`] },
      { what: 'imagedb content not JSON', keys: [`imagedb/content/sha256/${hex(badjson.id)}`] },
      { what: 'unreadable diff subdirectory', keys: [lockedDir.slice(root.length + 1)] },
    ];
    const stderrLines = lines(r.stderr);
    for (const p of problems) {
      const hits = rep.errors.filter((e) => p.keys.some((k) => `${e.path ?? ''} ${e.message}`.includes(k)));
      assert.equal(
        hits.length,
        1,
        `${p.what}: not exactly one entry of errors names ${p.keys.join(' or ')}; errors: ${JSON.stringify(rep.errors, null, 1)}`,
      );
      const said = stderrLines.filter((l) => p.keys.some((k) => l.includes(k)));
      assert.equal(said.length, 1, `${p.what}: stderr should name it once; stderr:\n${r.stderr}`);
    }
    // Nothing else went wrong: every other entry is the one about the API. (The harness keeps
    // this daemon's exec root inside its data root, root-only; a real exec root lives in /run.
    // Walking the rest of the root without DAC capabilities rightly reports it.)
    const named = (text: string) => problems.some((p) => p.keys.some((k) => text.includes(k)));
    const execRoot = `${root}/exec`;
    const inExec = (text: string) => text.includes(execRoot);
    const others = rep.errors.filter((e) => !named(`${e.path ?? ''} ${e.message}`) && !inExec(e.path ?? ''));
    assert.equal(others.length, 1, `errors beyond the four problems: ${JSON.stringify(others, null, 1)}`);
    assert.match(`${others[0]!.path ?? ''} ${others[0]!.message}`, /api|nonexistent\.sock/i);
    assert.equal(stderrLines.filter((l) => !inExec(l)).length, problems.length + 1, `stderr:\n${r.stderr}`);
    // The scan went on: the undamaged images are there with their real sizes.
    const layerdb = await readLayerDb(root);
    const ids = rep.images.map((i) => i.id);
    for (const img of [garbled, nocache, locked]) assert.ok(ids.includes(img.id), `${img.tag} listed`);
    const base = rep.images.find((i) => i.layers.length === 1);
    assert.ok(base, 'base listed');
    assert.equal(base.apparent.total, layerdb.get(base.layers[0]!)!.size);
    const lockedLayer = rep.layers.find((l) => l.chainId === locked.chainIds.at(-1));
    assert.ok(lockedLayer, 'the layer with the unreadable directory is still reported');
  });

  it('7b. an unreadable --docker-root: exit 1 and a one-line message', async function () {
    const r = await runReport(['--format', 'json', '--docker-root', unreadableRoot, '--docker-host', NO_API], {
      wrap: WITHOUT_DAC,
    });
    assert.equal(r.code, 1, `exit ${r.code ?? r.signal}; stderr:\n${r.stderr}`);
    const errLines = lines(r.stderr);
    assert.equal(errLines.length, 1, `stderr should be one line, was:\n${r.stderr}`);
    assert.ok(errLines[0]!.includes(unreadableRoot), `the message names ${unreadableRoot}: ${errLines[0]}`);
    // and it really is unreadable under those capabilities (or the test would prove nothing)
    await assert.rejects(run(WITHOUT_DAC[0]!, [...WITHOUT_DAC.slice(1), 'ls', '-A', unreadableRoot]));
  });
});
