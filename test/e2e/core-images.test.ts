// Acceptance tests of the core issue, images, layers and waste: `layerdu --report --format json`
// on the shared overlay2 fixture (test/support/fixture-host.ts) compared, to the byte, with
// Docker's own answers (GET /system/df, layerdb) and with du. Containers, logs, volumes and the
// build cache: core-containers.test.ts; the whole root, the API down and a damaged root:
// core-root.test.ts.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { OPAQUE_HIDDEN_APPARENT, WASTED_APPARENT, getFixture, readLayerDb, type Fixture } from '../support/fixture-host.js';
import { byId, upReport } from '../support/fixture-report.js';
import { duB1, systemDf } from '../support/oracles.js';

describe('layerdu --report on a real overlay2 host', function () {
  let fx: Fixture;

  before(async function () {
    fx = await getFixture();
  });

  it('1. images: apparent total and shared equal Size and SharedSize of GET /system/df, to the byte', async function () {
    const rep = await upReport(fx);
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
    const rep = await upReport(fx);
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

  it('4. waste: 8 MiB removed plus 2 MiB overwritten, counted once', async function () {
    const rep = await upReport(fx);
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
    const rep = await upReport(fx);
    const opaque = byId(rep.images).get(fx.images.opaque.id);
    assert.ok(opaque, 'opaque image listed');
    // The opaque /data hides /data/big.bin and /data/keep.txt, not the lower /data itself.
    assert.equal(opaque.wasted.apparent, OPAQUE_HIDDEN_APPARENT);
    const db = await readLayerDb(fx.root);
    const lower = path.join(fx.root, 'overlay2', db.get(fx.images.opaque.chainIds[1]!)!.cacheId!, 'diff', 'data');
    const hidden = (await duB1(path.join(lower, 'big.bin'))) + (await duB1(path.join(lower, 'keep.txt')));
    assert.equal(opaque.wasted.disk, hidden);
  });
});
