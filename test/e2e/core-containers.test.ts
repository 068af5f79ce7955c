// Acceptance tests of the core issue, containers, logs, volumes, hardlinks, build cache and
// orphans: `layerdu --report --format json` on the shared overlay2 fixture
// (test/support/fixture-host.ts) compared, to the byte, with Docker's own answers
// (/containers/json?size=1, layerdb) and with du. Images, layers and waste: core-images.test.ts.
import assert from 'node:assert/strict';
import { readFile, readdir, stat } from 'node:fs/promises';
import * as path from 'node:path';
import {
  HARDLINK_BYTES, LEAKED_BYTES, SIX_BYTES, VOLUME_BYTES, getFixture, layerDbDir, logFiles, mountOf, type Fixture,
} from '../support/fixture-host.js';
import { byId, reportBetween, upReport } from '../support/fixture-report.js';
import { containersWithSize, duB1, duB1CountingLinks, duB1Each, sumSizes } from '../support/oracles.js';

describe('layerdu --report on a real overlay2 host', function () {
  let fx: Fixture;

  before(async function () {
    fx = await getFixture();
  });

  it('3. containers: writable.apparent equals SizeRw; copy-up and logs are counted', async function () {
    const rep = await upReport(fx);
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

  it('5. hardlinks once; volumes; build cache; the leaked directory is the only orphan', async function () {
    const rep = await upReport(fx);
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
    const fresh = await reportBetween(fx, () => duB1Each(buildCachePaths));
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
});
