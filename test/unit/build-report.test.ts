import assert from 'node:assert/strict';
import type { ApiFacts, Bytes, DriverDirRole, IndexEntry, LayerIndex } from '../../collectors/lib/facts.js';
import { workOutCopiedUp, workOutWaste, type CopyUpMemo } from '../../agent/scan/stepped-analyses.js';
import { indexFromEntries } from '../../collectors/lib/path-index-builder.js';
import { buildReport } from '../../agent/model/build-report.js';
import { chainIds } from '../../agent/model/graph.js';
import type { ScanMeta } from '../../agent/model/report.js';
import type { DirFact, ScanFacts } from '../../agent/model/scan-facts.js';

const hex = (c: string): string => c.repeat(64);
const digest = (c: string): string => `sha256:${hex(c)}`;
const B = 4096;

// Two listed images share two layers (s1, s2) and have one unique layer each (a3, b3).
const S1 = digest('1');
const S2 = digest('2');
const A3 = digest('3');
const B3 = digest('4');
const IMG_A = digest('a');
const IMG_B = digest('b');
const [CH1, CH2, CHA] = chainIds([S1, S2, A3]) as [string, string, string];
const CHB = chainIds([S1, S2, B3])[2]!;

const CACHE1 = hex('5');
const CACHE2 = hex('6');
const CACHEA = hex('7');
const CACHEB = hex('8');
const MOUNT = hex('9');
const INIT = `${MOUNT}-init`;
const BUILDKIT = 'abcdefghijklmnopqrstuvwxy';
const ORPHAN = hex('0');
const CONTAINER = hex('c');
const BASE = '/var/lib/docker/overlay2';

const BYTES: Record<string, Bytes> = {
  [CACHE1]: { disk: 8 * B, apparent: 20_000 },
  [CACHE2]: { disk: 3 * B, apparent: 10_000 },
  [CACHEA]: { disk: 10 * B, apparent: 40_000 },
  [CACHEB]: { disk: 5 * B, apparent: 19_000 },
  [MOUNT]: { disk: 3 * B, apparent: 9_000 },
  [INIT]: { disk: 4 * B, apparent: 0 },
  [BUILDKIT]: { disk: 7 * B, apparent: 25_000 },
  [ORPHAN]: { disk: 11 * B, apparent: 44_000 },
};
const VOLUME: Bytes = { disk: 100 * B, apparent: 400_000 };
const LOGS: Bytes = { disk: 2 * B, apparent: 1234 };

const SCAN: ScanMeta = {
  startedAt: '2024-05-01T10:00:00.000Z',
  finishedAt: '2024-05-01T10:00:02.500Z',
  durationSeconds: 2.5,
  collectors: [],
  layersWalked: 4,
  layersReused: 0,
};

const file = (apparent: number): IndexEntry => ({ kind: 'file', disk: Math.ceil(apparent / B) * B, apparent });
const dir = (): IndexEntry => ({ kind: 'dir', disk: B, apparent: 0 });
const idx = (e: Record<string, IndexEntry>): LayerIndex => indexFromEntries(Object.entries(e));

const BUILDKIT_STORE: Bytes = { disk: 40_960, apparent: 32_000 };
const OTHER: Bytes = { disk: 61_440, apparent: 12_345 };

const ROLES: Record<string, DriverDirRole> = { [MOUNT]: 'container-layer', [INIT]: 'container-init', [BUILDKIT]: 'build-cache', [ORPHAN]: 'orphan' };

function facts(api: ApiFacts | null = null): ScanFacts {
  const dirs = new Map<string, DirFact>(
    Object.entries(BYTES).map(([id, bytes]) => {
      const path = id === MOUNT || id === INIT || id === BUILDKIT || id === ORPHAN ? `${BASE}/${id}` : `${BASE}/${id}/diff`;
      const role = ROLES[id] ?? 'image-layer';
      return [id, { id, role, path, bytes }];
    }),
  );
  return {
    dockerRoot: '/var/lib/docker',
    driver: { name: 'overlay2', store: 'graphdriver', backingFs: 'extfs', dType: true, vfsFallback: false, reason: '' },
    images: [
      { id: IMG_B, parent: null, diffIds: [S1, S2, B3], tags: ['b:1'], digests: [], created: null },
      { id: IMG_A, parent: null, diffIds: [S1, S2, A3], tags: ['a:1'], digests: [], created: null },
    ],
    layers: [
      { chainId: CH1, diffId: S1, parent: null, cacheId: CACHE1, size: 20_000 },
      { chainId: CH2, diffId: S2, parent: CH1, cacheId: CACHE2, size: 10_000 },
      { chainId: CHA, diffId: A3, parent: CH2, cacheId: CACHEA, size: 40_000 },
      { chainId: CHB, diffId: B3, parent: CH2, cacheId: CACHEB, size: 19_000 },
    ],
    mounts: [{ containerId: CONTAINER, mountId: MOUNT, initId: INIT, parent: CHA }],
    containers: [
      { id: CONTAINER, name: 'web', imageId: IMG_A, state: 'exited', volumes: ['data'], labels: {}, logs: LOGS, logFiles: 1, logPaths: [] },
    ],
    volumes: [
      { name: 'data', bytes: VOLUME },
      { name: 'spare', bytes: { disk: B, apparent: 0 } },
    ],
    dirs,
    // Indexes for image A's layers and the container's writable layer, none for image B.
    indexes: new Map([
      [CACHE1, idx({ bin: dir(), 'bin/sh': file(2000), etc: dir(), 'etc/passwd': file(1000) })],
      [CACHE2, idx({})],
      [CACHEA, idx({ etc: dir(), 'etc/passwd': { kind: 'whiteout', disk: 0, apparent: 0 } })],
      [MOUNT, idx({ bin: dir(), 'bin/sh': file(2100), etc: dir(), 'etc/passwd': file(50), new: file(10) })],
    ]),
    buildkitStore: BUILDKIT_STORE,
    other: OTHER,
    api,
    errors: [],
    filesystem: null,
    scan: SCAN,
  };
}

const apiFacts = (): ApiFacts => ({
  containers: new Map([[CONTAINER, { name: 'web-renamed', state: 'running', imageId: IMG_A }]]),
  driver: 'overlay2',
  driverStatus: [],
  dockerRootDir: '/var/lib/docker',
  serverVersion: '27.0.0',
});

describe('buildReport', () => {
  const r = buildReport(facts());
  const imgA = r.images.find((i) => i.id === IMG_A)!;
  const imgB = r.images.find((i) => i.id === IMG_B)!;

  it('lists both images, sorted by id, with their chain ids and tags', () => {
    assert.deepEqual(r.images.map((i) => i.id), [IMG_A, IMG_B]);
    assert.deepEqual(imgA.layers, [CH1, CH2, CHA]);
    assert.deepEqual(imgB.layers, [CH1, CH2, CHB]);
    assert.deepEqual(imgA.tags, ['a:1']);
    assert.equal(imgA.containers, 1);
    assert.equal(imgB.containers, 0);
  });

  it('splits shared and unique on both bases', () => {
    const sharedDisk = BYTES[CACHE1]!.disk + BYTES[CACHE2]!.disk;
    const sharedApp = BYTES[CACHE1]!.apparent + BYTES[CACHE2]!.apparent;
    assert.deepEqual(imgA.disk, { total: sharedDisk + BYTES[CACHEA]!.disk, shared: sharedDisk, unique: BYTES[CACHEA]!.disk });
    assert.deepEqual(imgA.apparent, {
      total: sharedApp + BYTES[CACHEA]!.apparent,
      shared: sharedApp,
      unique: BYTES[CACHEA]!.apparent,
    });
    assert.deepEqual(imgB.disk, { total: sharedDisk + BYTES[CACHEB]!.disk, shared: sharedDisk, unique: BYTES[CACHEB]!.disk });
    assert.deepEqual(imgB.apparent, {
      total: sharedApp + BYTES[CACHEB]!.apparent,
      shared: sharedApp,
      unique: BYTES[CACHEB]!.apparent,
    });
  });

  it('computes waste only when every layer of the image is indexed', () => {
    assert.deepEqual(imgA.wasted, { disk: B, apparent: 1000 }); // etc/passwd whited out in the top layer
    assert.deepEqual(imgB.wasted, { disk: 0, apparent: 0 });
  });

  it('lists every layer once with the images and containers that use it', () => {
    assert.deepEqual(r.layers.map((l) => l.chainId), [CH1, CH2, CHA, CHB].sort());
    const byChain = new Map(r.layers.map((l) => [l.chainId, l]));
    assert.deepEqual(byChain.get(CH1)!.images, [IMG_A, IMG_B]);
    assert.deepEqual(byChain.get(CH2)!.images, [IMG_A, IMG_B]);
    assert.deepEqual(byChain.get(CHA)!.images, [IMG_A]);
    assert.deepEqual(byChain.get(CHB)!.images, [IMG_B]);
    assert.deepEqual(byChain.get(CH1)!.containers, [CONTAINER]);
    assert.deepEqual(byChain.get(CH2)!.containers, [CONTAINER]);
    assert.deepEqual(byChain.get(CHA)!.containers, [CONTAINER]);
    assert.deepEqual(byChain.get(CHB)!.containers, []);
    const a = byChain.get(CHA)!;
    assert.deepEqual(
      { diffId: a.diffId, cacheId: a.cacheId, disk: a.disk, apparent: a.apparent },
      { diffId: A3, cacheId: CACHEA, disk: BYTES[CACHEA]!.disk, apparent: BYTES[CACHEA]!.apparent },
    );
  });

  it('reports the container’s writable, init, copied-up and log bytes', () => {
    assert.equal(r.containers.length, 1);
    const c = r.containers[0]!;
    assert.equal(c.id, CONTAINER);
    assert.equal(c.name, 'web');
    assert.equal(c.state, 'exited');
    assert.equal(c.imageId, IMG_A);
    assert.deepEqual(c.writable, BYTES[MOUNT]);
    assert.deepEqual(c.init, BYTES[INIT]);
    // bin, bin/sh and etc exist in the image; etc/passwd was whited out there and `new` is new.
    assert.deepEqual(c.copiedUp, { disk: 3 * B, apparent: 2100 });
    assert.equal(c.logs, LOGS.disk);
    assert.equal(c.logsApparent, LOGS.apparent);
  });

  it('reports volumes with the containers that mount them', () => {
    assert.deepEqual(r.volumes, [
      { name: 'data', disk: VOLUME.disk, apparent: VOLUME.apparent, containers: [CONTAINER], anonymous: false },
      { name: 'spare', disk: B, apparent: 0, containers: [], anonymous: false },
    ]);
  });

  it('reports the build cache (its directories and BuildKit’s own store) and the orphan with its path', () => {
    assert.deepEqual(r.buildCache, {
      disk: BYTES[BUILDKIT]!.disk + BUILDKIT_STORE.disk,
      apparent: BYTES[BUILDKIT]!.apparent + BUILDKIT_STORE.apparent,
      dirs: 1,
    });
    assert.deepEqual(r.orphans, [
      { id: ORPHAN, kind: 'layer-dir', path: `${BASE}/${ORPHAN}`, disk: BYTES[ORPHAN]!.disk, apparent: BYTES[ORPHAN]!.apparent },
    ]);
  });

  it('totals each category, and total is their sum and counts every byte once', () => {
    for (const basis of ['disk', 'apparent'] as const) {
      const t = r.totals[basis];
      const b = (id: string) => BYTES[id]![basis];
      assert.deepEqual(t, {
        imageLayers: b(CACHE1) + b(CACHE2) + b(CACHEA) + b(CACHEB),
        imageContent: 0,
        containerLayers: b(MOUNT) + b(INIT),
        volumes: VOLUME[basis] + (basis === 'disk' ? B : 0),
        logs: LOGS[basis],
        buildCache: b(BUILDKIT) + BUILDKIT_STORE[basis],
        orphans: b(ORPHAN),
        other: OTHER[basis],
        total: t.imageLayers + t.containerLayers + t.volumes + t.logs + t.buildCache + t.orphans + t.other,
      });
      const everyDirOnce = Object.values(BYTES).reduce((s, x) => s + x[basis], 0);
      const rest = BUILDKIT_STORE[basis] + OTHER[basis];
      assert.equal(t.total, everyDirOnce + VOLUME[basis] + (basis === 'disk' ? B : 0) + LOGS[basis] + rest);
    }
  });

  it('naiveVirtual adds every image in full and every container’s writable layer plus its image again', () => {
    const expected = imgA.apparent.total + imgB.apparent.total + (BYTES[MOUNT]!.apparent + imgA.apparent.total);
    assert.equal(r.totals.naiveVirtual, expected);
    assert.equal(r.totals.naiveVirtual, 70_000 + 49_000 + 9_000 + 70_000);
  });

  it('without the API: apiUp false, name and state from the config', () => {
    assert.equal(r.apiUp, false);
    assert.equal(r.dockerRoot, '/var/lib/docker');
    assert.equal(r.driver.name, 'overlay2');
    assert.deepEqual(r.scan, SCAN);
  });

  it('with the API: apiUp true, the name and state come from the daemon, no figure changes', () => {
    const withApi = buildReport(facts(apiFacts()));
    assert.equal(withApi.apiUp, true);
    assert.equal(withApi.containers[0]!.name, 'web-renamed');
    assert.equal(withApi.containers[0]!.state, 'running');
    assert.deepEqual(withApi.totals, r.totals);
    assert.deepEqual(withApi.images, r.images);
    assert.deepEqual(withApi.layers, r.layers);
  });

  it('an API that does not know the container leaves the config’s name and state', () => {
    const api = apiFacts();
    api.containers.clear();
    const c = buildReport(facts(api)).containers[0]!;
    assert.equal(c.name, 'web');
    assert.equal(c.state, 'exited');
  });
});

describe('waste and copy-up figures worked out ahead (agent/scan/stepped-analyses.ts)', () => {
  it('buildReport takes given figures, computes the rest, and writes nothing into its input', () => {
    const computed = buildReport(facts());
    // Only images whose every layer was indexed have a waste figure (image A in this fixture).
    assert.ok(computed.images.some((i) => i.wasted.apparent > 0));
    const f = facts();
    const keys = [...f.indexes.keys()];
    const sentinel = { disk: 4242, apparent: 4141 };
    const wasteful = computed.images.find((i) => i.wasted.apparent > 0)!.id;
    f.waste = new Map([[`${wasteful}:${CACHE1},${CACHE2},${CACHEA}`, sentinel]]);
    const snapshot = structuredClone({ waste: [...f.waste], dirs: [...f.dirs], layers: f.layers, images: f.images });
    const r = buildReport(f);
    assert.deepEqual(r.images.find((i) => i.id === wasteful)!.wasted, sentinel);
    assert.deepEqual(structuredClone({ waste: [...f.waste], dirs: [...f.dirs], layers: f.layers, images: f.images }), snapshot);
    assert.deepEqual([...f.indexes.keys()], keys);
  });

  it('reuses a remembered figure and keeps only the keys of current images', async () => {
    const f = facts();
    const first = await workOutWaste(f, f.indexes);
    assert.equal(first.size, 1);
    assert.deepEqual([...first.values()], [buildReport(f).images.find((i) => i.wasted.apparent > 0)!.wasted]);

    const sentinel = { disk: 4242, apparent: 4141 };
    const known = new Map([...first.keys()].map((k) => [k, sentinel] as [string, Bytes]));
    known.set('sha256:gone:abc', { disk: 1, apparent: 1 });
    const again = await workOutWaste(f, f.indexes, known);
    assert.deepEqual([...again], [...first.keys()].map((k) => [k, sentinel]));
    const r = buildReport({ ...facts(), waste: again });
    assert.equal(r.images.filter((i) => i.wasted.disk === sentinel.disk && i.wasted.apparent === sentinel.apparent).length, 1);
  });

  it("works out every indexed container's copy-up as buildReport would, and buildReport takes it", async () => {
    const f = facts();
    const ahead = await workOutCopiedUp(f);
    assert.deepEqual([...ahead], [[CONTAINER, { disk: 3 * B, apparent: 2100 }]]);
    const sentinel = { disk: 4242, apparent: 4141 };
    const r = buildReport({ ...facts(), copiedUp: new Map([[CONTAINER, sentinel]]) });
    assert.deepEqual(r.containers.find((c) => c.id === CONTAINER)!.copiedUp, sentinel);
  });

  it('keeps a container\'s figure while its writable layer walks to the same index on the same image layers', async () => {
    const f = facts();
    const memo: CopyUpMemo = { current: new Map() };
    const first = await workOutCopiedUp(f, memo);
    const sentinel = { disk: 4242, apparent: 4141 };
    memo.current.get(CONTAINER)!.bytes = sentinel;
    // The writable layer walked again: another index object, the same paths and bytes.
    const again = facts();
    again.indexes = new Map([...f.indexes].map(([k, v]) => [k, k === MOUNT ? idx({ bin: dir(), 'bin/sh': file(2100), etc: dir(), 'etc/passwd': file(50), new: file(10) }) : v]));
    assert.deepEqual((await workOutCopiedUp(again, memo)).get(CONTAINER), sentinel);
    // A file written since: worked out again.
    const changed = facts();
    changed.indexes = new Map([...f.indexes].map(([k, v]) => [k, k === MOUNT ? idx({ bin: dir(), 'bin/sh': file(2100), etc: dir(), 'etc/passwd': file(60), new: file(10) }) : v]));
    assert.notDeepEqual((await workOutCopiedUp(changed, memo)).get(CONTAINER), sentinel);
    // The image layers walked anew (other index objects, the same content): worked out again too.
    memo.current.get(CONTAINER)!.bytes = sentinel;
    const fresh = { ...changed, indexes: new Map([...changed.indexes].map(([k, v]) => [k, k === MOUNT ? v : { ...v }])) };
    assert.notDeepEqual((await workOutCopiedUp(fresh, memo)).get(CONTAINER), sentinel);
    assert.deepEqual(first.get(CONTAINER), { disk: 3 * B, apparent: 2100 });
  });
});
