// Acceptance tests of the core issue, the report as a whole and on bad input: the same figures
// with the Docker API down, every byte of the shared overlay2 fixture (test/support/fixture-host.ts)
// counted once against du -sB1 -x of the root, and a damaged root and an unreadable one on a daemon
// of their own. Images, layers and waste: core-images.test.ts; containers and the rest:
// core-containers.test.ts.
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { Report } from '../../agent/model/report.js';
import { makeBaseImage, run, startDaemon, type Daemon } from '../support/dockerd.js';
import {
  buildClassic, getFixture, layerDbDir, logFiles, mountOf, readLayerDb, type Fixture, type FixtureImage,
} from '../support/fixture-host.js';
import { NO_API, reportBetween, reportJson, sortBy, upReport } from '../support/fixture-report.js';
import { WITHOUT_DAC, duB1Excluding, lines, runReport } from '../support/oracles.js';

describe('layerdu --report on a real overlay2 host', function () {
  let fx: Fixture;

  before(async function () {
    fx = await getFixture();
  });

  it('6. without the API: exit 0, one line on stderr, the same images, layers and sizes', async function () {
    const withApi = await upReport(fx);
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
    const { rep, measured } = await reportBetween(fx, async () => ({
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
