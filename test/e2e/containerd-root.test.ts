// Acceptance tests of the containerd store reader, the report as a whole: orphans and build cache,
// every byte of both roots counted once against du -sB1 -x, and the same report with the Docker
// API down, on the containerd-store fixture (test/support/containerd-fixture.ts).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { getCdFixture, type CdFixture } from '../support/containerd-fixture.js';
import { Measure, apparentOf, blobSizes, duRoots, imageChain } from '../support/containerd-oracles.js';
import { API_ONLY, NO_API, between, canonical, cdReport, cdUpReport, type CdRun } from '../support/containerd-report.js';
import { findExecutable } from '../support/dockerd.js';
import { LEAKED_BYTES } from '../support/fixture-host.js';
import { duB1, lines } from '../support/oracles.js';

describe('layerdu --report on a real containerd-store host: orphans, build cache, the whole roots, no API', function () {
  let fx: CdFixture;
  /** Snapshot keys no listed image and no container holds: BuildKit's (checked in 4). */
  let buildKitKeys: string[];

  before(async function () {
    if (process.getuid?.() !== 0 || !findExecutable('busybox')) this.skip();
    fx = await getCdFixture();
    const held = new Set<string>();
    for (const img of Object.values(fx.images)) for (const k of imageChain(fx, img.topChainId)) held.add(k);
    for (const c of Object.values(fx.containers)) held.add(c.id).add(`${c.id}-init`);
    buildKitKeys = [...fx.snapshots.keys()].filter((k) => !held.has(k)).sort();
  });

  it('4. orphans: exactly the leaked snapshot and the abandoned download; BuildKit\'s snapshots are build cache', async function () {
    assert.ok(existsSync(fx.leaked.file), `${fx.leaked.file} is gone: something made containerd clean up its snapshot dirs`);
    assert.ok(buildKitKeys.length > 0, 'BuildKit left snapshots');
    for (const k of buildKitKeys) assert.match(k, /^[a-z0-9]{25}(-view)?$|-view$/, `snapshot ${k}: neither an image's, a container's nor BuildKit's`);
    const rep = await cdUpReport(fx);
    const orphans = [...rep.orphans].sort((a, b) => (a.kind < b.kind ? -1 : 1));
    assert.deepEqual(
      orphans.map((o) => ({ kind: o.kind, path: o.path })),
      [{ kind: 'ingest', path: fx.ingest.path }, { kind: 'snapshot', path: fx.leaked.path }],
    );
    for (const o of orphans) {
      assert.equal(o.disk, await duB1(o.path), `${o.kind} ${o.path}: disk vs du -sB1`);
      assert.equal(o.apparent, await apparentOf(o.path), `${o.kind} ${o.path}: apparent`);
    }
    const [ingest, leaked] = orphans as [(typeof orphans)[0], (typeof orphans)[0]];
    assert.equal(leaked.apparent, LEAKED_BYTES);
    // The contract gives an orphan's id no form: it must name the dir (or the download's ref).
    assert.ok(leaked.id.includes(fx.leaked.id), `snapshot orphan id ${leaked.id}`);
    assert.ok([path.basename(fx.ingest.path), fx.ingest.ref].some((n) => ingest.id.includes(n)), `ingest id ${ingest.id}`);
    assert.equal(rep.totals.disk.orphans, leaked.disk + ingest.disk);
    for (const k of buildKitKeys) assert.ok(!rep.layers.some((l) => l.chainId === k), `BuildKit snapshot ${k} taken for an image layer`);

    // Build cache, a bound (the contract leaves open which blobs outside the listed images are
    // BuildKit's: its history records in moby_history are, the classic builder's dangling
    // intermediates are not, and ctr cannot list what a lease holds): at least buildkit/ and the
    // fs/ of BuildKit's snapshots, at most those plus the whole snapshots/<id>/ dirs and every blob
    // no listed image holds.
    const bkDirs = [...buildKitKeys.map((k) => fx.idOfKey.get(k)).filter((id): id is string => id !== undefined), ...fx.viewDirs];
    const imageBlobs = new Set(Object.values(fx.images).flatMap((i) => i.blobs));
    const looseBlobs = (await readdir(fx.blobsDir)).map((h) => `sha256:${h}`).filter((b) => !imageBlobs.has(b));
    const measure = async () => {
      const store = await duB1(path.join(fx.root, 'buildkit'));
      let fs = 0;
      let whole = 0;
      for (const id of bkDirs) {
        fs += await duB1(path.join(fx.snapshotsDir, id, 'fs'));
        whole += await duB1(path.join(fx.snapshotsDir, id));
      }
      let blobs = 0;
      for (const b of looseBlobs) blobs += (await blobSizes(fx, b))?.disk ?? 0;
      return { least: store + fs, most: store + whole + blobs };
    };
    const { result, measured } = await between(measure, () => cdReport(fx, fx.host));
    const bc = result.json.buildCache.disk;
    assert.ok(bc >= measured.least && bc <= measured.most, `buildCache.disk ${bc} outside [${measured.least}, ${measured.most}]`);
    assert.equal(result.json.totals.disk.buildCache, bc);
  });

  it('5. every byte once: totals.disk.total = du -sB1 -x of the docker root + of the containerd root', async function () {
    const { result, measured } = await between(() => duRoots(fx), () => cdReport(fx, fx.host));
    const rep = result.json;
    const t = rep.totals.disk;
    assert.equal(t.total, t.imageLayers + t.imageContent + t.containerLayers + t.volumes + t.logs + t.buildCache + t.orphans + t.other);
    assert.equal(t.total, measured, `layerdu ${t.total} against du ${measured} (off by ${t.total - measured})`);
    assert.equal(t.imageContent, rep.content.reduce((s, c) => s + c.disk, 0));
    // the unique image units add up too: every snapshot once, every image blob once
    const m = new Measure(fx);
    let units = 0;
    for (const l of rep.layers) units += (await m.snapshot(l.chainId)).disk;
    assert.equal(t.imageLayers, units);
    assert.deepEqual(rep.errors, [], 'an intact host: no problem');
  });

  it('6. without the API: the same report from disk alone', async function () {
    const { result } = await between(
      () => duRoots(fx),
      async (): Promise<[CdRun, CdRun]> => [await cdReport(fx, fx.host), await cdReport(fx, NO_API)],
    );
    const [up, down] = result;
    assert.equal(down.json.apiUp, false);
    const errLines = lines(down.stderr);
    assert.equal(errLines.length, 1, `stderr should be one line, was:\n${down.stderr}`);
    assert.match(errLines[0]!, /api|nonexistent\.sock/i);
    assert.equal(down.json.errors.length, 1, JSON.stringify(down.json.errors));
    assert.deepEqual(canonical(down.json, API_ONLY), canonical(up.json, API_ONLY));
    assert.equal(down.json.images.length, Object.keys(fx.images).length);
    assert.equal(down.json.containers.length, Object.keys(fx.containers).length);
  });
});
