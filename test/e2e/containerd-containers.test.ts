// Acceptance tests of the containerd store reader, containers, copy-up, waste, hardlinks, volumes
// and logs: `layerdu --report --format json` on the containerd-store fixture
// (test/support/containerd-fixture.ts) against Docker's SizeRw, du of the snapshot dirs, the bytes
// the fixture wrote, and the waste oracle over the snapshot dirs (test/support/containerd-waste.ts).
import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { getCdFixture, type CdFixture, type CdImage } from '../support/containerd-fixture.js';
import { Measure, fsOf, imageChain } from '../support/containerd-oracles.js';
import { cdUpReport } from '../support/containerd-report.js';
import { wasteOf, type Waste } from '../support/containerd-waste.js';
import { findExecutable } from '../support/dockerd.js';
import { logFiles } from '../support/fixture-builders.js';
import {
  EIGHT_BYTES, HARDLINK_BYTES, OPAQUE_BIG_BYTES, OPAQUE_HIDDEN_APPARENT, SIX_BYTES, TWO_BYTES, VOLUME_BYTES, WASTED_APPARENT,
} from '../support/fixture-host.js';
import { containersWithSize, duB1, duB1CountingLinks, sumSizes } from '../support/oracles.js';

describe('layerdu --report on a real containerd-store host: containers, waste, hardlinks, volumes, logs', function () {
  let fx: CdFixture;
  let m: Measure;
  const waste = new Map<string, Waste>();
  /** Hidden entries outside the classic builder's -init snapshots, as `<chain key> <path> <size>`. */
  const ownHidden = (img: CdImage): string[] => {
    const chain = imageChain(fx, img.topChainId);
    return waste.get(img.id)!.hidden.filter((h) => !chain[h.layer]!.endsWith('-init')).map((h) => `${chain[h.layer]} ${h.rel} ${h.size}`);
  };

  before(async function () {
    if (process.getuid?.() !== 0 || !findExecutable('busybox')) this.skip();
    fx = await getCdFixture();
    m = new Measure(fx);
    for (const img of Object.values(fx.images)) {
      waste.set(img.id, await wasteOf(imageChain(fx, img.topChainId).map((k) => fsOf(fx, k))));
    }
  });

  it('0. the fixture: what it wrote is where it wrote it, and the waste oracle finds it (no layerdu)', async function () {
    const upper = fsOf(fx, fx.containers.copyUp.id);
    assert.deepEqual(await readdir(upper), ['data']);
    assert.deepEqual(await readdir(path.join(upper, 'data')), ['six.bin']);
    assert.equal((await stat(path.join(upper, 'data', 'six.bin'))).size, SIX_BYTES + 2);
    const w = fx.images.waste.chainIds;
    assert.deepEqual(ownHidden(fx.images.waste), [`${w[1]} eight.bin ${EIGHT_BYTES}`, `${w[3]} two.bin ${TWO_BYTES}`]);
    const o = fx.images.opaque.chainIds[1];
    assert.deepEqual(ownHidden(fx.images.opaque), [`${o} data/big.bin ${OPAQUE_BIG_BYTES}`, `${o} data/keep.txt 5`]);
    for (const img of [fx.images.base, fx.images.sharedA, fx.images.hardlink, fx.images.six, fx.images.buildkit]) {
      assert.deepEqual(ownHidden(img), [], `${img.tag}: nothing hidden outside -init snapshots`);
    }
    const h1 = await stat(path.join(fsOf(fx, fx.images.hardlink.topChainId), 'h1.bin'));
    assert.equal(h1.nlink, 2);
    assert.equal((await m.snapshot(fx.images.hardlink.topChainId)).apparent, HARDLINK_BYTES);
  });

  it('2b. containers: writable is the active snapshot (disk = SizeRw), init its <id>-init', async function () {
    const rep = await cdUpReport(fx);
    const api = await containersWithSize(fx.daemon);
    assert.deepEqual(rep.containers.map((c) => c.id).sort(), api.map((c) => c.Id).sort());
    const mine = new Map(rep.containers.map((c) => [c.id, c]));
    for (const c of api) {
      const r = mine.get(c.Id)!;
      const name = c.Names[0];
      assert.equal(r.writable.disk, c.SizeRw ?? 0, `${name}: writable.disk vs SizeRw`);
      assert.deepEqual(r.writable, await m.snapshot(c.Id), `${name}: writable vs du and apparent of snapshots/${fx.idOfKey.get(c.Id)}/fs`);
      assert.deepEqual(r.init, await m.snapshot(`${c.Id}-init`), `${name}: init vs snapshots/${fx.idOfKey.get(`${c.Id}-init`)}/fs`);
      assert.equal(r.imageId, c.ImageID, `${name}: imageId`);
      assert.equal(r.state, c.State, `${name}: state`);
      assert.equal(r.name, name!.replace(/^\//, ''), `${name}: name`);
    }
    for (const c of Object.values(fx.containers)) assert.equal(mine.get(c.id)!.imageId, c.imageId, `${c.name}: imageId`);
    const t = rep.totals.disk;
    assert.equal(t.containerLayers, rep.containers.reduce((s, c) => s + c.writable.disk + c.init.disk, 0));
  });

  it('3. copy-up and logs: the 6 MiB file copied up, every log file once', async function () {
    const rep = await cdUpReport(fx);
    const mine = new Map(rep.containers.map((c) => [c.id, c]));
    const copyUp = mine.get(fx.containers.copyUp.id)!;
    // Appending to /data/six.bin copied it and /data up, and that is all the writable layer holds.
    assert.equal(copyUp.writable.apparent, SIX_BYTES + 2);
    assert.equal(copyUp.copiedUp.apparent, SIX_BYTES + 2, 'six.bin as it is now');
    assert.equal(copyUp.copiedUp.disk, await duB1(path.join(fsOf(fx, fx.containers.copyUp.id), 'data')), 'copiedUp.disk vs du -sB1 of the copied-up /data');
    for (const c of [fx.containers.created, fx.containers.logger, fx.containers.running, fx.containers.rotated]) {
      assert.deepEqual(mine.get(c.id)!.copiedUp, { disk: 0, apparent: 0 }, `${c.name}: copiedUp`);
    }

    const logger = mine.get(fx.containers.logger.id)!;
    const files = await logFiles(fx.root, fx.containers.logger.id);
    assert.equal(files.length, 1, 'no max-size: one log file');
    assert.equal(logger.logs, await duB1(files[0]!), 'logs vs du -sB1 of the json-file log');
    assert.equal(logger.logsApparent, await sumSizes(files), 'logsApparent vs st_size of the log');
    // st_size above is the exact check; the json-file line length varies with its timestamp.
    assert.ok(logger.logsApparent > 20000 * 20);
    assert.equal(mine.get(fx.containers.created.id)!.logs, 0);

    const rotated = mine.get(fx.containers.rotated.id)!;
    const rotatedFiles = await logFiles(fx.root, fx.containers.rotated.id);
    const live = `${fx.containers.rotated.id}-json.log`;
    assert.deepEqual(rotatedFiles.map((f) => path.basename(f)), [live, `${live}.1.gz`, `${live}.2.gz`, `${live}.3.gz`]);
    let du = 0;
    for (const f of rotatedFiles) du += await duB1(f);
    assert.equal(rotated.logs, du, 'logs vs du -sB1 of the live and rotated logs');
    assert.equal(rotated.logsApparent, await sumSizes(rotatedFiles));
    assert.equal(rep.totals.disk.logs, rep.containers.reduce((s, c) => s + c.logs, 0));
  });

  it('3b. waste: 8 MiB removed plus 2 MiB overwritten, and an opaque /data, counted once', async function () {
    const rep = await cdUpReport(fx);
    const mine = new Map(rep.images.map((i) => [i.id, i]));
    for (const img of Object.values(fx.images)) {
      const w = waste.get(img.id)!;
      assert.deepEqual(mine.get(img.id)!.wasted, { disk: w.disk, apparent: w.apparent }, `${img.tag}: wasted (hidden: ${w.hidden.map((h) => h.rel).join(' ') || 'none'})`);
    }
    // The fixture's own figures, besides what -init snapshots hide (if anything: their files are empty).
    const initPart = (img: CdImage) => {
      const chain = imageChain(fx, img.topChainId);
      const hs = waste.get(img.id)!.hidden.filter((h) => chain[h.layer]!.endsWith('-init'));
      return { disk: hs.reduce((s, h) => s + h.disk, 0), apparent: hs.reduce((s, h) => s + h.size, 0) };
    };
    const wasted = mine.get(fx.images.waste.id)!.wasted;
    assert.equal(wasted.apparent - initPart(fx.images.waste).apparent, WASTED_APPARENT);
    const c = fx.images.waste.chainIds;
    const hidden = (await duB1(path.join(fsOf(fx, c[1]!), 'eight.bin'))) + (await duB1(path.join(fsOf(fx, c[3]!), 'two.bin')));
    assert.equal(wasted.disk - initPart(fx.images.waste).disk, hidden, 'wasted.disk vs du -sB1 of the hidden files');
    const opaque = mine.get(fx.images.opaque.id)!.wasted;
    assert.equal(opaque.apparent - initPart(fx.images.opaque).apparent, OPAQUE_HIDDEN_APPARENT);
    const lower = path.join(fsOf(fx, fx.images.opaque.chainIds[1]!), 'data');
    const opaqueHidden = (await duB1(path.join(lower, 'big.bin'))) + (await duB1(path.join(lower, 'keep.txt')));
    assert.equal(opaque.disk - initPart(fx.images.opaque).disk, opaqueHidden, 'the opaque /data hides big.bin and keep.txt');
  });

  it('3c. hardlinks once; the named volume', async function () {
    const rep = await cdUpReport(fx);
    const top = fx.images.hardlink.topChainId;
    const layer = rep.layers.find((l) => l.chainId === top);
    assert.ok(layer, `hardlink top snapshot ${top} in layers`);
    assert.equal(layer.apparent, HARDLINK_BYTES, 'one 2 MiB file with two names, counted once');
    const fs = fsOf(fx, top);
    const h1 = await stat(path.join(fs, 'h1.bin'));
    assert.equal(layer.disk, (await duB1CountingLinks(fs)) - h1.blocks * 512, 'du -l (every name counted) less one copy of the inode');

    const vol = rep.volumes.find((v) => v.name === fx.volume.name);
    assert.ok(vol, `volume ${fx.volume.name} reported`);
    assert.equal(vol.apparent, VOLUME_BYTES, 'the one file written into it');
    assert.equal(vol.disk, await duB1(fx.volume.mountpoint));
    assert.deepEqual(vol.containers, [fx.containers.logger.id]);
    assert.equal(rep.totals.disk.volumes, rep.volumes.reduce((s, v) => s + v.disk, 0));
  });
});
