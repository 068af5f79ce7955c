import assert from 'node:assert/strict';
import { apiAtLeast, reclaimReports, type ReclaimFacts } from '../../agent/model/reclaim.js';

// A small host, worked out by hand: base ← I (an untagged intermediate of a classic build) ← A, B;
// D an untagged leaf (dangling). c1 runs A, c2 exited on B, c3 created on base.
const b = (disk: number) => ({ disk, apparent: disk });
const image = (id: string, tags: string[], parent: string | null, layers: string[]) => ({ id, tags, digests: [], parent, units: layers.map((l) => `layer:${l}`), chain: layers });
const host = (over: Partial<ReclaimFacts> = {}): ReclaimFacts => ({
  store: 'graphdriver',
  apiVersion: '1.45',
  images: [
    image('base', ['base:1'], null, ['L1']),
    image('I', [], 'base', ['L1', 'L2']),
    image('A', ['a:1'], 'I', ['L1', 'L2', 'L3']),
    image('B', ['b:1'], 'I', ['L1', 'L2', 'L4']),
    image('D', [], null, ['L1', 'L5']),
  ],
  containers: [
    { id: 'c1', imageId: 'A', state: 'running', volumes: ['v3'], units: [] },
    { id: 'c2', imageId: 'B', state: 'exited', volumes: ['v4'], units: [] },
    { id: 'c3', imageId: 'base', state: 'created', volumes: [], units: [] },
  ],
  volumes: [
    { name: 'v1', anonymous: false },
    { name: 'v2', anonymous: true },
    { name: 'v3', anonymous: false },
    { name: 'v4', anonymous: true },
  ],
  // k1 shares nothing (a build context); k2's layers are base's (BuildKit keeps it without -a)
  buildCache: [{ id: 'k1', chain: [] }, { id: 'k2', chain: ['L1'] }],
  bytes: new Map([
    ['layer:L1', b(1000)], ['layer:L2', b(100)], ['layer:L3', b(10)], ['layer:L4', b(20)], ['layer:L5', b(50)],
    ...['base', 'I', 'A', 'B', 'D'].map((i) => [`image:${i}`, b(1)] as const),
    ['container:c1', b(300)], ['container:c2', b(30)], ['container:c3', b(4)],
    ['volume:v1', b(5000)], ['volume:v2', b(700)], ['volume:v3', b(90)], ['volume:v4', b(3)],
    ['cache:k1', b(60000)], ['cache:k2', b(9000)],
  ]),
  unboundedLogs: [{ id: 'c1', bytes: b(123) }],
  orphans: b(77),
  inactiveStores: { disk: 4444, apparent: 0 },
  ...over,
});
const disk = (f: ReclaimFacts) => Object.fromEntries(reclaimReports(f).reclaim.map((r) => [r.action, [r.disk, r.objects]]));

describe('reclaim: what each clean-up frees, on a host worked out by hand', () => {
  it('each action on a Docker 23+ daemon (API 1.45)', () => {
    assert.deepEqual(disk(host()), {
      'container-prune': [30 + 4, 2], // c2 and c3; c1 runs
      'image-prune': [1 + 50, 1], // D and its own layer; I has children, the rest are tagged
      'image-prune-all': [1 + 50, 1], // every other image a container uses, or its child does
      'volume-prune': [700, 1], // v2 alone: named volumes need -a, v4 is mounted by c2
      'volume-prune-all': [5000 + 700, 2],
      'builder-prune': [60000, 1], // k2 shares an image's layer
      'builder-prune-all': [69000, 2],
      // containers first: then B is unused, but only dangling images go
      'system-prune': [34 + 51 + 60000, 2 + 1 + 1],
      // containers, then anonymous volumes (v2, and v4 now c2 is gone), then every unused image
      // (B, D; base and I still hold A's chain), then all build cache
      'system-prune-all': [34 + (700 + 3) + (1 + 20 + 1 + 50) + 69000, 2 + 2 + 2 + 2],
      logs: [123, 1],
      orphans: [77, 1],
      'inactive-store': [4444, 1],
    });
  });

  it('before API 1.42 volume prune takes every unused volume, and there is no -a', () => {
    const r = reclaimReports(host({ apiVersion: '1.41' })).reclaim;
    const v = Object.fromEntries(r.map((x) => [x.action, [x.disk, x.command]]));
    assert.deepEqual(v['volume-prune'], [5700, 'docker volume prune -f']);
    assert.deepEqual(v['volume-prune-all'], [5700, 'docker volume prune -f']);
    assert.deepEqual(v['system-prune-all']![0], 34 + 5703 + 72 + 69000);
  });

  it('image-prune-all once the containers are gone: children before parents, the whole chain', () => {
    const r = disk(host({ containers: [] }));
    // every image goes: layers L1–L5 and the five image records
    assert.deepEqual(r['image-prune-all'], [1000 + 100 + 10 + 20 + 50 + 5, 5]);
    // dangling: D; I has children
    assert.deepEqual(r['image-prune'], [51, 1]);
  });

  it('docker rmi: 0 while a container uses the image or it has children; else its own units and untagged parents nothing else needs', () => {
    const rmi = (f: ReclaimFacts) => Object.fromEntries([...reclaimReports(f).rmi].map(([id, x]) => [id, x.disk]));
    assert.deepEqual(rmi(host()), { base: 0, I: 0, A: 0, B: 0, D: 51 });
    // no containers: rmi B frees its layer and record only (I still has A); rmi A likewise
    assert.deepEqual(rmi(host({ containers: [] })), { base: 0, I: 0, A: 11, B: 21, D: 51 });
    // B alone under I: removing B takes the untagged I with it, and base stays (tagged)
    const lone = host({ containers: [], images: host().images.filter((i) => i.id !== 'A') });
    assert.equal(rmi(lone).B, 1 + 20 + 1 + 100);
  });

  it('compares API versions numerically; unknown reads as current', () => {
    assert.equal(apiAtLeast('1.41', '1.42'), false);
    assert.equal(apiAtLeast('1.42', '1.42'), true);
    assert.equal(apiAtLeast('1.100', '1.42'), true);
    assert.equal(apiAtLeast(null, '1.42'), true);
  });

  it('BuildKit records on the containerd store: shared while an image\'s chain begins with theirs, the units they hold freed only with them; build history never; loose blobs at the next garbage collection', () => {
    const f = host({
      containers: [],
      volumes: [],
      images: [image('base', ['base:1'], null, ['L1']), image('kit', ['kit:1'], null, ['L1', 'L3'])],
      // r1 exported kit's layer (holds its blob); r2 sits on base, exported nothing; r3 is a build context
      buildCache: [
        { id: 'r1', chain: ['L1', 'L3'], units: ['blob:kit-layer'] },
        { id: 'r2', chain: ['L1'], units: ['cache:snap2'] },
        { id: 'r3', chain: [], units: ['cache:snap3'] },
      ],
      permanent: ['blob:history'],
      loose: ['blob:loose'],
      bytes: new Map([
        ['layer:L1', b(1000)], ['layer:L3', b(10)], ['image:base', b(1)], ['image:kit', b(1)],
        ['blob:kit-layer', b(300)], ['cache:snap2', b(2000)], ['cache:snap3', b(40)], ['blob:history', b(8)], ['blob:loose', b(4)],
      ]),
    });
    const r = disk(f);
    assert.deepEqual(r['builder-prune'], [40 + 4, 1], 'r3 alone (r1, r2 shared), and the loose blob the collection takes');
    assert.deepEqual(r['builder-prune-all'], [300 + 2000 + 40 + 4, 3]);
    // kit's layer L3 goes with kit; its blob stays with r1; base stays with nothing using it? both go:
    assert.deepEqual(r['image-prune-all'], [1 + 1 + 10 + 1000 + 4, 2], 'the layers go, r1 keeps the blob it exported, the history its own');
    // once the images are gone nothing shares: system-prune-all takes every record too
    assert.deepEqual(r['system-prune-all'], [1 + 1 + 10 + 1000 + 4 + 300 + 2000 + 40, 2 + 3]);
    assert.deepEqual(r['container-prune'], [0, 0], 'no collection runs: the loose blob stays');
  });
});

