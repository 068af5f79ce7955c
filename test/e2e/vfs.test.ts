// Storage-driver truth on real daemons: one whose data root is on an ext4 made without the
// filetype feature (so overlay2 refuses it and Docker falls back to vfs), and one overlay2 daemon
// on the machine's own ext4. Figures are checked against du and Docker's layerdb.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import * as path from 'node:path';
import type { Report } from '../../agent/model/report.js';
import { cleanupSteps } from '../support/cleanup.js';
import { mountExt4WithoutDType, type NoDTypeFs } from '../support/no-dtype-fs.js';
import { findExecutable, makeBaseImage, startDaemon, type Daemon } from '../support/dockerd.js';
import { buildClassic, mountOf } from '../support/fixture-host.js';
import { duB1, duB1Each, runReport, type ReportRun } from '../support/oracles.js';

const NO_API = 'unix:///nonexistent.sock';
const MiB = 1024 * 1024;

async function reportJson(args: string[]): Promise<Report> {
  const r: ReportRun<Report> = await runReport<Report>(['--format', 'json', ...args]);
  assert.equal(r.code, 0, `layerdu --report ${args.join(' ')} exited ${r.code ?? r.signal}; stderr:\n${r.stderr}`);
  assert.ok(r.json, `stdout is not JSON (${r.jsonError}): ${r.stdout.slice(0, 500)}`);
  return r.json;
}

/** layerdb `size` and `cache-id` of every image layer under `<root>/image/<driver>`. */
async function layerDb(root: string, driver: string): Promise<Array<{ chainId: string; size: number; cacheId: string }>> {
  const dir = path.join(root, 'image', driver, 'layerdb', 'sha256');
  const out = [];
  for (const hex of await readdir(dir)) {
    const size = Number((await readFile(path.join(dir, hex, 'size'), 'utf8')).trim());
    const cacheId = (await readFile(path.join(dir, hex, 'cache-id'), 'utf8')).trim();
    out.push({ chainId: `sha256:${hex}`, size, cacheId });
  }
  return out;
}

function near(actual: number, expected: number, slack: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= slack, `${what}: ${actual} is not within ${slack} of ${expected} (off by ${actual - expected})`);
}

describe('storage-driver truth: vfs fallback on ext4 without d_type', function () {
  this.timeout(600_000);
  let work = '';
  let fs: NoDTypeFs | null = null;
  let d: Daemon | null = null;
  let root = '';
  let withApi: Report;
  const tags = ['vfs-a:latest', 'vfs-b:latest', 'vfs-c:latest'];

  before(async function () {
    if (process.getuid?.() !== 0) this.skip();
    for (const tool of ['dockerd', 'mkfs.ext4', 'losetup', 'busybox', 'du']) {
      if (!findExecutable(tool)) this.skip();
    }
    work = await mkdtemp('/tmp/ldu-vfs-');
    fs = await mountExt4WithoutDType(work, '1G');
    // No --storage-driver: the daemon picks one itself, as a stock install does.
    d = await startDaemon({ dataRoot: path.join(fs.mountpoint, 'docker'), extraArgs: ['--storage-driver', ''] });
    root = d.root;
    await makeBaseImage(d, 'base:latest');
    await buildClassic(d, tags[0]!, 'FROM base:latest\nRUN head -c 3145728 /dev/urandom > /a.bin\n');
    await buildClassic(d, tags[1]!, 'FROM base:latest\nRUN head -c 1048576 /dev/urandom > /b.bin\nRUN echo b > /b.txt\n');
    await buildClassic(d, tags[2]!, 'FROM vfs-b:latest\nRUN rm /b.bin && head -c 2097152 /dev/urandom > /c.bin\n');
    withApi = await reportJson(['--docker-root', root, '--docker-host', d.host]);
  });

  after(async function () {
    this.timeout(180_000);
    const { attempt, done } = cleanupSteps();
    if (d) await attempt(() => d!.stop());
    if (fs) await attempt(() => fs!.unmount());
    if (work) await attempt(() => rm(work, { recursive: true, force: true }));
    done();
  });

  it('Docker chose vfs (GET /info)', async () => {
    const info = await d!.api<{ Driver: string; DockerRootDir: string }>('/info');
    assert.equal(info.Driver, 'vfs');
    assert.equal(info.DockerRootDir, root);
  });

  it('driver: vfs, no d_type, a fallback, and the reason names d_type and the device', () => {
    const drv = withApi.driver;
    assert.equal(drv.name, 'vfs');
    assert.equal(drv.backingFs, 'ext4');
    assert.equal(drv.dType, false);
    assert.equal(drv.vfsFallback, true);
    assert.match(drv.reason, /d_type/);
    assert.match(drv.reason, /ext4 on \/dev\/loop\d+ \(mounted at [^)]+\) lacks d_type \(the filetype feature/);
    assert.ok(drv.reason.includes(`(mounted at ${fs!.mountpoint})`), drv.reason);
    assert.equal(typeof drv.vfsDuplicateBytes, 'number');
  });

  it('the same verdict from disk alone (API down)', async () => {
    const r = await reportJson(['--docker-root', root, '--docker-host', NO_API]);
    assert.equal(r.apiUp, false);
    assert.deepEqual(r.driver, withApi.driver);
    assert.deepEqual(r.totals.disk, withApi.totals.disk);
  });

  it('image layers in disk bytes equal du -sB1 of each layer directory in vfs/dir (no containers)', async () => {
    const dirs = (await layerDb(root, 'vfs')).map((l) => path.join(root, 'vfs', 'dir', l.cacheId));
    assert.deepEqual((await readdir(path.join(root, 'vfs', 'dir'))).sort(), dirs.map((d) => path.basename(d)).sort(), 'vfs/dir holds the layers only');
    assert.equal(withApi.totals.disk.imageLayers, await duB1Each(dirs), 'totals.disk.imageLayers vs du of each layer');
    assert.equal(withApi.containers.length, 0);
    assert.equal(withApi.totals.disk.containerLayers, 0);
    assert.equal(withApi.orphans.length, 0, JSON.stringify(withApi.orphans));
  });

  it('vfsDuplicateBytes is Σ du of each layer directory less Σ layerdb size', async () => {
    const db = await layerDb(root, 'vfs');
    const du = await duB1Each(db.map((l) => path.join(root, 'vfs', 'dir', l.cacheId)));
    const sizes = db.reduce((s, l) => s + l.size, 0);
    const expected = du - sizes;
    const got = withApi.driver.vfsDuplicateBytes!;
    process.stdout.write(
      `      Σ du -sB1 vfs/dir/<layer>=${du} Σ layerdb size=${sizes} (${db.length} layers) expected dup=${expected} ` +
        `layerdu: vfsDuplicateBytes=${got} imageLayers=${withApi.totals.disk.imageLayers} total=${withApi.totals.disk.total}\n` +
        `      reason: ${withApi.driver.reason}\n`,
    );
    assert.equal(got, expected, 'vfsDuplicateBytes');
    // A guard on the fixture, not a figure: every layer above the base holds another copy of busybox at least.
    assert.ok(expected > 3 * MiB, `${expected}`);
  });

  it("an image's unique bytes include the full copy its top layer holds", async () => {
    const db = new Map((await layerDb(root, 'vfs')).map((l) => [l.chainId, l]));
    const a = withApi.images.find((i) => i.tags.includes('vfs-a:latest'));
    assert.ok(a, 'vfs-a is listed');
    const top = db.get(a.layers[a.layers.length - 1]!)!;
    const duTop = await duB1(path.join(root, 'vfs', 'dir', top.cacheId));
    // vfs-a's only layer of its own is its top: a full copy of base plus 3 MiB.
    assert.equal(a.disk.unique, duTop);
    const baseDir = db.get(a.layers[0]!)!.cacheId;
    const aBin = await duB1(path.join(root, 'vfs', 'dir', top.cacheId, 'a.bin'));
    assert.equal(top.size, 3 * MiB, 'the layer as a diff: a.bin');
    assert.equal(a.disk.unique, (await duB1(path.join(root, 'vfs', 'dir', baseDir))) + aBin, `unique ${a.disk.unique} counts the copy of base, not only the ${top.size} changed`);
    const base = withApi.images.find((i) => i.tags.includes('base:latest'));
    assert.ok(base);
    assert.equal(a.disk.shared, base.disk.total, 'the base layer is shared');
    assert.equal(a.disk.total, a.disk.shared + a.disk.unique);
  });

  it('waste and copy-up are not measured on vfs: 0, and the reason says so', () => {
    for (const i of withApi.images) assert.deepEqual(i.wasted, { disk: 0, apparent: 0 }, i.tags.join());
    assert.match(withApi.driver.reason, /[Ww]aste and copy-up are not measured on vfs/);
  });

  it('the text report carries the vfs warning with the reason', async () => {
    const r = await runReport(['--format', 'text', '--docker-root', root, '--docker-host', d!.host]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /WARNING: Docker is on the vfs storage driver/);
    assert.match(r.stdout, /Why: +ext4 on \/dev\/loop\d+/);
  });

  it('a container adds two more full copies (-init and writable), counted as container layers', async () => {
    await d!.docker(['create', '--name', 'vfs-k', 'vfs-a:latest']);
    const r = await reportJson(['--docker-root', root, '--docker-host', d!.host]);
    const c = r.containers[0]!;
    const a = r.images.find((i) => i.tags.includes('vfs-a:latest'))!;
    const dir = (id: string) => path.join(root, 'vfs', 'dir', id);
    const { mountId, initId } = await mountOf(root, c.id, 'vfs');
    assert.ok(initId, 'the container has an -init layer');
    const [rwDu, initDu] = [await duB1(dir(mountId)), await duB1(dir(initId))];
    assert.equal(c.writable.disk, rwDu, 'writable vs du of its directory');
    assert.equal(c.init.disk, initDu, '-init vs du of its directory');
    const layers = (await layerDb(root, 'vfs')).map((l) => dir(l.cacheId));
    assert.equal(r.totals.disk.imageLayers, await duB1Each(layers), 'image layers vs du of each');
    assert.equal(r.totals.disk.containerLayers, rwDu + initDu, 'container layers vs du of -init and writable');
    // -init adds a few directories and files (/dev, /proc, /etc/hosts, /.dockerenv…) to its copy of
    // the top layer; what they take on disk is the filesystem's business: near, not equal.
    near(c.init.disk, a.disk.unique, 64 * 1024, '-init is a copy of the top layer');
    assert.equal(c.writable.disk, c.init.disk, 'the writable layer is a copy of -init');
    assert.deepEqual(c.copiedUp, { disk: 0, apparent: 0 });
    // What the container duplicates: the copy of its image's top in -init and of -init in the
    // writable layer, each at most the size of what it copies.
    assert.equal(
      r.driver.vfsDuplicateBytes! - withApi.driver.vfsDuplicateBytes!,
      Math.min(initDu, a.disk.unique) + Math.min(rwDu, initDu),
      'duplicate grows by two copies',
    );
    await d!.docker(['rm', 'vfs-k']);
  });
});

describe('storage-driver truth: overlay2 on the machine ext4', function () {
  this.timeout(300_000);
  let d: Daemon | null = null;

  before(async function () {
    if (process.getuid?.() !== 0 || !findExecutable('dockerd')) this.skip();
    d = await startDaemon();
  });

  after(async function () {
    this.timeout(120_000);
    if (d) await d.stop();
  });

  it('dType true, no fallback, no reason', async () => {
    const info = await d!.api<{ Driver: string }>('/info');
    assert.equal(info.Driver, 'overlay2');
    await makeBaseImage(d!, 'base:latest');
    for (const host of [d!.host, NO_API]) {
      const r = await reportJson(['--docker-root', d!.root, '--docker-host', host]);
      assert.equal(r.driver.name, 'overlay2');
      assert.equal(r.driver.dType, true);
      assert.equal(r.driver.vfsFallback, false);
      assert.equal(r.driver.reason, '');
      assert.equal(r.driver.vfsDuplicateBytes, undefined);
      assert.equal(r.driver.backingFs, r.filesystem?.fstype);
    }
  });
});
