// The harness checks itself: the fixture holds what the core tests assume, by Docker's own answers
// and du. These pass without layerdu; when one fails, the core tests' expectations are void.
import assert from 'node:assert/strict';
import { access, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import {
  EIGHT_BYTES,
  HARDLINK_BYTES,
  LEAKED_BYTES,
  LOG_LINES,
  MID_BYTES,
  SIX_BYTES,
  TWO_BYTES,
  VOLUME_BYTES,
  getFixture,
  layerDbDir,
  logFiles,
  type Fixture,
} from '../support/fixture-host.js';
import { CLI, REPO_ROOT, containersWithSize, duB1, systemDf, type DfImage } from '../support/oracles.js';

describe('e2e harness: the acceptance fixture', function () {
  let fx: Fixture;
  let dfImages: Map<string, DfImage>;

  before(async function () {
    fx = await getFixture();
    const df = await systemDf(fx.daemon);
    dfImages = new Map(df.Images.map((i) => [i.Id, i]));
  });

  function df(id: string): DfImage {
    const i = dfImages.get(id);
    assert.ok(i, `image ${id} not in /system/df`);
    return i;
  }

  it('lists exactly the eight tagged images (no build intermediates)', function () {
    const ours = Object.values(fx.images).map((i) => i.id).sort();
    assert.equal(ours.length, 8);
    assert.deepEqual([...dfImages.keys()].sort(), ours);
  });

  it('shares base and the 1 MiB middle layer between shared-a and shared-b', function () {
    const { base, sharedA, sharedB } = fx.images;
    assert.deepEqual(sharedA.chainIds.slice(0, 2), sharedB.chainIds.slice(0, 2));
    assert.notEqual(sharedA.chainIds[2], sharedB.chainIds[2]);
    const baseSize = df(base.id).Size;
    assert.equal(df(sharedA.id).SharedSize, baseSize + MID_BYTES);
    assert.equal(df(sharedB.id).SharedSize, baseSize + MID_BYTES);
    assert.equal(df(sharedA.id).Size, baseSize + MID_BYTES + 2); // "a\n"
    assert.equal(df(sharedB.id).Size, baseSize + MID_BYTES + 4096);
    // the base layer is in every image: shared everywhere; shared-a and shared-b also share mid
    for (const img of Object.values(fx.images)) {
      assert.equal(img.chainIds[0], base.chainIds[0]);
      const shared = img === sharedA || img === sharedB ? baseSize + MID_BYTES : baseSize;
      assert.equal(df(img.id).SharedSize, shared, `${img.tag}: SharedSize`);
    }
  });

  it('gives waste, hardlink and six the sizes the core tests expect', function () {
    const baseSize = df(fx.images.base.id).Size;
    assert.equal(fx.images.waste.diffIds.length, 5);
    assert.equal(df(fx.images.waste.id).Size, baseSize + EIGHT_BYTES + 2 * TWO_BYTES);
    assert.equal(df(fx.images.hardlink.id).Size, baseSize + HARDLINK_BYTES);
    assert.equal(df(fx.images.six.id).Size, baseSize + SIX_BYTES);
    const top = fx.images.hardlink.chainIds.at(-1)!;
    assert.equal(fx.layerdb.get(top)?.size, HARDLINK_BYTES);
  });

  it('has a layerdb entry and a diff directory for every image layer', async function () {
    for (const img of Object.values(fx.images)) {
      for (const [i, chainId] of img.chainIds.entries()) {
        const entry = fx.layerdb.get(chainId);
        assert.ok(entry, `${img.tag}: layer ${chainId} not in layerdb`);
        assert.equal(entry.diffId, img.diffIds[i]);
        assert.ok(entry.cacheId);
        await access(path.join(fx.root, 'overlay2', entry.cacheId, 'diff'));
        await access(layerDbDir(fx.root, chainId));
      }
    }
  });

  it('has the five containers in their states, with the SizeRw Docker reports', async function () {
    const cs = new Map((await containersWithSize(fx.daemon)).map((c) => [c.Id, c]));
    const { created, copyUp, logger, running, rotated } = fx.containers;
    assert.equal(cs.size, 5);
    assert.equal(cs.get(rotated.id)?.State, 'exited');
    assert.equal(cs.get(created.id)?.State, 'created');
    assert.equal(cs.get(copyUp.id)?.State, 'exited');
    assert.equal(cs.get(logger.id)?.State, 'exited');
    assert.equal(cs.get(running.id)?.State, 'running');
    assert.equal(cs.get(copyUp.id)?.SizeRw, SIX_BYTES + 2); // six.bin copied up, plus "x\n"
    assert.equal(cs.get(created.id)?.SizeRw ?? 0, 0); // Docker omits SizeRw when it is 0
    assert.equal(cs.get(logger.id)?.SizeRw ?? 0, 0);
  });

  it('has the named volume with the bytes written, used by the logger', async function () {
    const dfv = (await systemDf(fx.daemon)).Volumes.find((v) => v.Name === fx.volume.name);
    assert.ok(dfv);
    assert.equal(dfv.UsageData?.Size, VOLUME_BYTES);
    assert.equal(dfv.UsageData?.RefCount, 1);
    assert.equal(dfv.Mountpoint, fx.volume.mountpoint);
    // How many blocks a 3 MiB file and its directory take is the filesystem's business: at least the bytes.
    assert.ok((await duB1(fx.volume.mountpoint)) >= VOLUME_BYTES);
  });

  it("has the logger's 20000 lines in its json-file log", async function () {
    const files = await logFiles(fx.root, fx.containers.logger.id);
    assert.equal(files.length, 1);
    const text = await readFile(files[0]!, 'utf8');
    assert.equal(text.split('\n').filter(Boolean).length, LOG_LINES);
    assert.match(text, /"log":"log line 20000\\n"/);
  });

  it('has the leaked directory, 1 MiB plus two directories on disk', async function () {
    assert.match(fx.leaked.id, /^[0-9a-f]{64}$/);
    assert.equal(fx.leaked.path, path.join(fx.root, 'overlay2', fx.leaked.id));
    const disk = await duB1(fx.leaked.path);
    // The blocks of a 1 MiB file and two directories depend on the filesystem: a range, not a figure.
    assert.ok(disk >= LEAKED_BYTES + 2 * 4096 && disk < LEAKED_BYTES + 64 * 1024, `du ${disk}`);
    const cacheIds = new Set([...fx.layerdb.values()].map((l) => l.cacheId));
    assert.ok(!cacheIds.has(fx.leaked.id));
  });

  it('has BuildKit leftovers: 25-character directories and buildkit/*.db', async function () {
    // How many snapshots BuildKit keeps beside the exported layers is its own (version's) business.
    assert.ok(fx.buildCacheDirs.length >= 1);
    for (const db of ['cache.db', 'snapshots.db', 'metadata_v2.db']) {
      await access(path.join(fx.root, 'buildkit', db));
    }
    const bc = (await systemDf(fx.daemon)).BuildCache ?? [];
    // likewise the number of its cache records (sources, snapshots, exec mounts)
    assert.ok(bc.length >= 1);
  });

  it('resolves the CLI from the repository root', async function () {
    if (!process.env.LAYERDU_CLI) assert.equal(CLI, path.join(REPO_ROOT, 'dist', 'bin', 'layerdu.js'));
    await access(path.join(REPO_ROOT, 'package.json'));
  });
});
