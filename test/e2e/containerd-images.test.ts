// Acceptance tests of the containerd store reader, images, layers and content blobs:
// `layerdu --report --format json` on the containerd-store fixture (test/support/containerd-fixture.ts)
// compared, to the byte, with Docker's own answers (GET /images/json), what ctr says (snapshot
// chains, which dir is which, manifests) and du / stat of the snapshot dirs and blobs.
// Containers, copy-up, waste, hardlinks, volumes, logs: containerd-containers.test.ts; orphans,
// build cache, the whole roots and the API down: containerd-root.test.ts.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { snapshotDirs } from '../support/containerd-ctr.js';
import { INGEST_REF, getCdFixture, type CdFixture, type CdImage } from '../support/containerd-fixture.js';
import { Measure, blobSizes, duRoots, expectImages, imageChain, type ImageExpect } from '../support/containerd-oracles.js';
import { cdUpReport } from '../support/containerd-report.js';
import { findExecutable } from '../support/dockerd.js';
import { containersWithSize, type DfImage } from '../support/oracles.js';

const sorted = (xs: string[]) => [...xs].sort();

describe('layerdu --report on a real containerd-store host: images, layers, content', function () {
  let fx: CdFixture;
  let m: Measure;
  let expected: Map<string, ImageExpect>;
  let images: CdImage[];

  before(async function () {
    if (process.getuid?.() !== 0 || !findExecutable('busybox')) this.skip();
    fx = await getCdFixture();
    images = Object.values(fx.images);
    m = new Measure(fx);
    expected = await expectImages(m, images);
  });

  it('0. the fixture: its oracles give Docker\'s Size and SizeRw, and every snapshot dir is placed (no layerdu)', async function () {
    const api = await fx.daemon.api<DfImage[]>('/images/json');
    assert.deepEqual(sorted(api.map((i) => i.Id)), sorted(images.map((i) => i.id)), 'the listed images are the eight tagged ones');
    for (const d of api) {
      const e = expected.get(d.Id)!;
      assert.equal(e.dockerSize, d.Size, `${d.RepoTags?.[0]}: blob sizes + du of the chain's snapshots vs Docker's Size`);
    }
    // shared-a and shared-b hold base, the -init of the build container of the middle RUN, and the middle layer
    const keys = (img: CdImage) => new Set(imageChain(fx, img.topChainId));
    const a = keys(fx.images.sharedA);
    const both = [...keys(fx.images.sharedB)].filter((k) => a.has(k));
    assert.equal(both.length, 3, both.join(' <- '));
    assert.deepEqual([both[0], both[2]], fx.images.sharedA.chainIds.slice(0, 2));
    assert.match(both[1]!, /^[0-9a-f]{64}-init$/);
    const cs = await containersWithSize(fx.daemon);
    assert.deepEqual(sorted(cs.map((c) => c.Id)), sorted(Object.values(fx.containers).map((c) => c.id)));
    for (const c of cs) {
      assert.equal(c.SizeRw ?? 0, (await m.snapshot(c.Id)).disk, `${c.Names[0]}: SizeRw vs du -sB1 of its active snapshot's fs`);
    }
    const placed = new Set(fx.idOfKey.values());
    assert.deepEqual(
      await snapshotDirs(fx.containerdRoot),
      [...placed, ...fx.viewDirs, fx.leaked.id].sort((x, y) => Number(x) - Number(y)),
      'every snapshot dir is a placed snapshot, a view, or the leaked one',
    );
    assert.match(await fx.daemon.ctr(['content', 'active']), new RegExp(`^${INGEST_REF}\\s`, 'm'), 'the ingest is active');
  });

  it('1. images: disk and apparent over units; Docker Size = content.apparent + disk.total - content.disk', async function () {
    const rep = await cdUpReport(fx);
    const api = await fx.daemon.api<DfImage[]>('/images/json');
    assert.equal(rep.apiUp, true);
    assert.deepEqual(sorted(rep.images.map((i) => i.id)), sorted(api.map((i) => i.Id)), 'the listed images');
    const byId = new Map(rep.images.map((i) => [i.id, i]));
    for (const d of api) {
      const img = byId.get(d.Id)!;
      const e = expected.get(d.Id)!;
      const name = d.RepoTags?.[0] ?? d.Id;
      const fixture = images.find((i) => i.id === d.Id)!;
      assert.deepEqual(img.disk, e.disk, `${name}: disk (units: ${e.units.map((u) => u.unit).join(', ')})`);
      assert.deepEqual(img.apparent, e.apparent, `${name}: apparent`);
      assert.deepEqual(img.content, e.content, `${name}: content (its blobs)`);
      assert.equal(img.content.apparent + (img.disk.total - img.content.disk), d.Size, `${name}: Docker's Size`);
      assert.deepEqual(sorted(img.tags), sorted(d.RepoTags ?? []), `${name}: tags`);
      assert.deepEqual(img.layers, imageChain(fx, fixture.topChainId), `${name}: layers, the snapshot chain bottom first`);
      const users = Object.values(fx.containers).filter((c) => c.imageId === d.Id).length;
      assert.equal(img.containers, users, `${name}: containers`);
    }
    assert.equal(byId.get(fx.images.base.id)!.containers, 4);
    assert.equal(byId.get(fx.images.six.id)!.containers, 1);
  });

  it('2. layers: one per snapshot a listed image holds, disk = du -sB1 of snapshots/<id>/fs', async function () {
    const rep = await cdUpReport(fx);
    const holders = new Map<string, string[]>();
    for (const img of images) for (const k of imageChain(fx, img.topChainId)) holders.set(k, [...(holders.get(k) ?? []), img.id]);
    const users = new Map<string, string[]>();
    for (const c of Object.values(fx.containers)) {
      const img = images.find((i) => i.id === c.imageId)!;
      for (const k of imageChain(fx, img.topChainId)) users.set(k, [...(users.get(k) ?? []), c.id]);
    }
    assert.deepEqual(sorted(rep.layers.map((l) => l.chainId)), sorted([...holders.keys()]), 'every image snapshot once');
    let sum = 0;
    for (const l of rep.layers) {
      const s = await m.snapshot(l.chainId);
      sum += s.disk;
      assert.deepEqual(
        { ...l, images: sorted(l.images), containers: sorted(l.containers) },
        {
          chainId: l.chainId,
          snapshotId: fx.idOfKey.get(l.chainId),
          namespace: 'moby',
          disk: s.disk,
          apparent: s.apparent,
          images: sorted(holders.get(l.chainId) ?? []),
          containers: sorted(users.get(l.chainId) ?? []),
        },
        `layer ${l.chainId}`,
      );
    }
    assert.equal(rep.totals.disk.imageLayers, sum, 'totals.disk.imageLayers: every image snapshot once');
  });

  it('content: one entry per blob (disk = st_blocks*512, apparent = size); totals.disk.imageContent is their sum', async function () {
    const rep = await cdUpReport(fx);
    const files = new Set((await readdir(fx.blobsDir)).map((h) => `sha256:${h}`));
    const holders = new Map<string, string[]>();
    const types = new Map<string, Set<string>>();
    for (const img of images) {
      const ds = [img.manifest.target, img.manifest.config, ...img.manifest.layers];
      for (const d of ds) types.set(d.digest, (types.get(d.digest) ?? new Set()).add(d.mediaType));
      for (const b of new Set(img.blobs)) if (files.has(b)) holders.set(b, [...(holders.get(b) ?? []), img.id]);
    }
    const digests = rep.content.map((c) => c.digest);
    assert.equal(new Set(digests).size, digests.length, 'no blob twice');
    for (const b of holders.keys()) assert.ok(digests.includes(b), `image blob ${b} in content[]`);
    for (const c of rep.content) {
      assert.ok(files.has(c.digest), `${c.digest} is a blob file`);
      const s = (await blobSizes(fx, c.digest))!;
      assert.deepEqual({ disk: c.disk, apparent: c.apparent }, s, `${c.digest}: sizes`);
      assert.deepEqual(sorted(c.images), sorted(holders.get(c.digest) ?? []), `${c.digest}: images`);
      const t = types.get(c.digest);
      if (t) assert.ok(c.mediaType !== null && t.has(c.mediaType), `${c.digest}: mediaType ${c.mediaType}, manifests say ${[...t].join(' or ')}`);
    }
    assert.equal(rep.totals.disk.imageContent, rep.content.reduce((s, c) => s + c.disk, 0));
  });

  it('driver and stores: the containerd store on overlayfs, namespace moby, active', async function () {
    const rep = await cdUpReport(fx);
    assert.equal(rep.driver.store, 'containerd');
    assert.equal(rep.driver.name, 'overlayfs');
    assert.deepEqual(
      rep.stores.map((s) => ({ store: s.store, driver: s.driver, root: s.root, namespace: s.namespace, active: s.active })),
      [{ store: 'containerd', driver: 'overlayfs', root: fx.containerdRoot, namespace: 'moby', active: true }],
    );
    // A bound: the contract gives a store's disk no formula. It holds at least every image unit
    // (each once) and at most everything under the two roots.
    const units = new Map<string, number>();
    for (const e of expected.values()) for (const u of e.units) units.set(u.unit, u.disk);
    const least = [...units.values()].reduce((s, x) => s + x, 0);
    const disk = rep.stores[0]!.disk;
    assert.ok(Number.isInteger(disk) && disk >= least && disk <= (await duRoots(fx)), `stores[0].disk ${disk}, units ${least}`);
  });
});
