import assert from 'node:assert/strict';
import { buildReport } from '../../agent/model/build-report.js';
import { chainIds } from '../../agent/model/graph.js';
import type { ScanFacts } from '../../agent/model/scan-facts.js';
import { COMPOSE_PROJECT, COMPOSE_SERVICE, groupOwners, ownerReports, type OwnedContainer, type OwnerFacts } from '../../agent/model/owners.js';

const hex = (c: string): string => c.repeat(64);
const K = 1024;

const container = (id: string, imageId: string, labels: Record<string, string>, over: Partial<OwnedContainer> = {}): OwnedContainer => ({
  id,
  imageId,
  volumes: [],
  labels,
  writable: 0,
  init: 0,
  logs: 0,
  ...over,
});

describe('owners', () => {
  // Two images share a base unit; shop's image adds its own; a third image nobody runs also holds it.
  const WEB = hex('1');
  const DB = hex('2');
  const LONE = hex('3');
  const shop = (service: string) => ({ [COMPOSE_PROJECT]: 'shop', [COMPOSE_SERVICE]: service, team: 'payments' });
  const facts = (): OwnerFacts => ({
    ownerLabels: ['team'],
    containers: [
      container(WEB, 'img-shop', shop('web'), { writable: 8 * K, init: 4 * K, logs: 2 * K, volumes: ['cache'] }),
      container(DB, 'img-shop', shop('db'), { writable: 16 * K, init: 4 * K, logs: 1 * K, volumes: ['pgdata', 'cache'] }),
      container(LONE, 'img-base', { team: 'infra' }, { writable: 1 * K, init: 4 * K, logs: 3 * K, volumes: ['shared'] }),
    ],
    volumes: [
      { name: 'pgdata', disk: 100 * K },
      { name: 'cache', disk: 10 * K },
      { name: 'shared', disk: 50 * K },
    ],
    images: [
      { id: 'img-base', units: ['layer:base'] },
      { id: 'img-shop', units: ['layer:base', 'layer:shop', 'blob:cfg'] },
      { id: 'img-idle', units: ['layer:base', 'layer:idle'] },
    ],
    unitDisk: new Map([
      ['layer:base', 1000 * K],
      ['layer:shop', 300 * K],
      ['blob:cfg', 4 * K],
      ['layer:idle', 7 * K],
    ]),
  });

  it('sums a compose project: writable with -init, logs, its own volumes, its image units exclusive and shared', () => {
    const owners = ownerReports(facts());
    const p = owners.find((o) => o.kind === 'compose-project')!;
    assert.deepEqual(p, {
      kind: 'compose-project',
      name: 'shop',
      containers: [WEB, DB].sort(),
      services: { [WEB]: 'web', [DB]: 'db' },
      disk: { writable: 32 * K, logs: 3 * K, volumes: 110 * K, imagesExclusive: 304 * K, imagesShared: 1000 * K },
    });
  });

  it('makes one label owner per distinct value, named KEY=value, sorted by kind then name', () => {
    const owners = ownerReports(facts());
    assert.deepEqual(
      owners.map((o) => `${o.kind} ${o.name}`),
      ['compose-project shop', 'label team=infra', 'label team=payments'],
    );
    const infra = owners.find((o) => o.name === 'team=infra')!;
    // img-base is only infra's, but img-shop and img-idle hold its one unit: nothing is exclusive.
    assert.deepEqual(infra.disk, { writable: 5 * K, logs: 3 * K, volumes: 50 * K, imagesExclusive: 0, imagesShared: 1000 * K });
    assert.equal(infra.services, undefined);
  });

  it('leaves out a volume another owner also mounts, and an image another owner also runs', () => {
    const f = facts();
    f.containers[2] = { ...f.containers[2]!, imageId: 'img-shop', volumes: ['cache'] };
    const shop = ownerReports(f).find((o) => o.name === 'shop')!;
    assert.equal(shop.disk.volumes, 100 * K); // pgdata alone: cache is the lone container's too
    assert.equal(shop.disk.imagesExclusive, 0);
    assert.equal(shop.disk.imagesShared, 1304 * K);
  });

  it('groups a Kubernetes node\'s containers by namespace and by pod (<namespace>/<pod>), sandboxes with their pod', () => {
    const pod = (ns: string, name: string) => ({ 'io.kubernetes.pod.namespace': ns, 'io.kubernetes.pod.name': name });
    const cs = [
      container('sandbox-web', 'pause', { ...pod('shop', 'web'), 'io.cri-containerd.kind': 'sandbox' }),
      container('app', 'img', { ...pod('shop', 'web'), 'io.cri-containerd.kind': 'container' }),
      container('cache', 'img', pod('shop', 'cache')),
      container('job', 'img', pod('batch', 'web')),
      container('loose', 'img', { 'io.kubernetes.pod.name': 'no-namespace' }),
    ];
    const owners = groupOwners(cs, []).map((o) => [o.kind, o.name, o.members.map((c) => c.id).join(',')]);
    assert.deepEqual(owners.sort(), [
      ['k8s-namespace', 'batch', 'job'],
      ['k8s-namespace', 'shop', 'sandbox-web,app,cache'],
      ['k8s-pod', 'batch/web', 'job'],
      ['k8s-pod', 'shop/cache', 'cache'],
      ['k8s-pod', 'shop/web', 'sandbox-web,app'],
    ]);
  });

  it('ignores empty label values and repeated keys; no labels, no owners', () => {
    const cs = [container(WEB, 'i', { [COMPOSE_PROJECT]: '', team: '' }), container(DB, 'i', { team: 'a' })];
    assert.deepEqual(
      groupOwners(cs, ['team', 'team']).map((o) => [o.kind, o.name, o.members.length]),
      [['label', 'team=a', 1]],
    );
    assert.deepEqual(ownerReports({ ...facts(), containers: facts().containers.map((c) => ({ ...c, labels: {} })) }), []);
  });

  it('agrees with removing the owner on random hosts: what no remaining image or container holds', () => {
    // A seeded generator (mulberry32): the same hosts on every run.
    let seed = 20261201;
    const rand = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    let checked = 0;
    for (let round = 0; round < 300; round++) {
      const units = Array.from({ length: 1 + Math.floor(rand() * 8) }, (_, i) => `u${i}`);
      const unitDisk = new Map(units.map((u) => [u, 4096 * (1 + Math.floor(rand() * 50))]));
      const images = Array.from({ length: 1 + Math.floor(rand() * 5) }, (_, i) => ({
        id: `img${i}`,
        units: units.filter(() => rand() < 0.4),
      }));
      const volumes = ['v0', 'v1', 'v2'].map((name) => ({ name, disk: 4096 * Math.floor(rand() * 20) }));
      const containers = Array.from({ length: Math.floor(rand() * 7) }, (_, i) => {
        const labels: Record<string, string> = {};
        const p = pick(['a', 'b', null]);
        if (p) labels[COMPOSE_PROJECT] = p;
        const t = pick(['x', 'y', null]);
        if (t) labels.team = t;
        const ns = pick(['shop', 'batch', null]);
        if (ns) {
          labels['io.kubernetes.pod.namespace'] = ns;
          labels['io.kubernetes.pod.name'] = pick(['web', 'job']);
        }
        return container(`c${i}`, pick(images).id, labels, {
          volumes: volumes.filter(() => rand() < 0.3).map((v) => v.name),
          writable: 4096 * Math.floor(rand() * 10),
          init: 4096,
          logs: Math.floor(rand() * 9000),
        });
      });
      const f: OwnerFacts = { ownerLabels: ['team'], containers, volumes, images, unitDisk };
      for (const o of ownerReports(f)) {
        // Literally remove the owner: its containers, then every image they ran that no
        // remaining container runs, then sum what nothing left holds.
        const gone = new Set(o.containers);
        const removed = containers.filter((c) => gone.has(c.id));
        const left = containers.filter((c) => !gone.has(c.id));
        const ran = new Set(removed.map((c) => c.imageId));
        const imagesLeft = images.filter((i) => !ran.has(i.id) || left.some((c) => c.imageId === i.id));
        const heldBefore = new Set(images.flatMap((i) => i.units));
        const heldAfter = new Set(imagesLeft.flatMap((i) => i.units));
        const freedImages = [...heldBefore].filter((u) => !heldAfter.has(u)).reduce((s, u) => s + unitDisk.get(u)!, 0);
        const mountedBefore = new Set(removed.flatMap((c) => c.volumes));
        const mountedAfter = new Set(left.flatMap((c) => c.volumes));
        const freedVolumes = volumes.filter((v) => mountedBefore.has(v.name) && !mountedAfter.has(v.name)).reduce((s, v) => s + v.disk, 0);
        const usedUnits = new Set(removed.flatMap((c) => images.find((i) => i.id === c.imageId)!.units));
        const usedDisk = [...usedUnits].reduce((s, u) => s + unitDisk.get(u)!, 0);
        const what = `round ${round} ${o.kind} ${o.name}`;
        assert.equal(o.disk.imagesExclusive, freedImages, what);
        assert.equal(o.disk.imagesShared, usedDisk - freedImages, what);
        assert.equal(o.disk.volumes, freedVolumes, what);
        assert.equal(o.disk.writable, removed.reduce((s, c) => s + c.writable + c.init, 0), what);
        assert.equal(o.disk.logs, removed.reduce((s, c) => s + c.logs, 0), what);
        checked += 1;
      }
    }
    assert.ok(checked > 900, `only ${checked} owners checked`);
  });
});

describe('buildReport: owners', () => {
  // Image A (layers 1, 3) runs in shop's container; image B (layers 1, 4) in nobody's.
  const digest = (c: string) => `sha256:${hex(c)}`;
  const [L1, L3, L4] = [digest('1'), digest('3'), digest('4')];
  const chainA = chainIds([L1, L3]);
  const chainB = chainIds([L1, L4]);
  const dirOf: Record<string, number> = { d1: 40 * K, d3: 12 * K, d4: 8 * K, mount: 20 * K, 'mount-init': 4 * K };
  const facts = (labels: Record<string, string>, ownerLabels?: string[]): ScanFacts => ({
    dockerRoot: '/var/lib/docker',
    driver: { name: 'overlay2', store: 'graphdriver', backingFs: 'extfs', dType: true, vfsFallback: false, reason: '' },
    filesystem: null,
    images: [
      { id: digest('a'), parent: null, diffIds: [L1, L3], tags: ['a:1'], digests: [], created: null },
      { id: digest('b'), parent: null, diffIds: [L1, L4], tags: ['b:1'], digests: [], created: null },
    ],
    layers: [
      { chainId: chainA[0]!, diffId: L1, parent: null, cacheId: 'd1', size: 0 },
      { chainId: chainA[1]!, diffId: L3, parent: chainA[0]!, cacheId: 'd3', size: 0 },
      { chainId: chainB[1]!, diffId: L4, parent: chainA[0]!, cacheId: 'd4', size: 0 },
    ],
    mounts: [{ containerId: hex('c'), mountId: 'mount', initId: 'mount-init', parent: chainA[1]! }],
    containers: [
      { id: hex('c'), name: 'shop-web-1', imageId: digest('a'), state: 'running', volumes: ['data'], labels, logs: { disk: 8 * K, apparent: 5000 }, logFiles: 1, logPaths: [] },
    ],
    volumes: [{ name: 'data', bytes: { disk: 64 * K, apparent: 60_000 } }],
    dirs: new Map(
      Object.entries(dirOf).map(([id, disk]) => [id, { id, role: id.startsWith('mount') ? 'container-layer' : 'image-layer', path: `/x/${id}`, bytes: { disk, apparent: disk } }]),
    ),
    indexes: new Map(),
    buildkitStore: { disk: 0, apparent: 0 },
    other: { disk: 0, apparent: 0 },
    api: null,
    errors: [],
    scan: { startedAt: '', finishedAt: '', durationSeconds: 0, collectors: [], layersWalked: 0, layersReused: 0 },
    ...(ownerLabels ? { ownerLabels } : {}),
  });

  it('has no owners without labels', () => {
    assert.deepEqual(buildReport(facts({})).owners, []);
    assert.deepEqual(buildReport(facts({ team: 'x' })).owners, []); // no --owner.label team
  });

  it("counts a project's container layers, logs, volume and the image units only it holds", () => {
    const r = buildReport(facts({ [COMPOSE_PROJECT]: 'shop', [COMPOSE_SERVICE]: 'web', team: 'x' }, ['team']));
    const disk = { writable: 24 * K, logs: 8 * K, volumes: 64 * K, imagesExclusive: 12 * K, imagesShared: 40 * K };
    assert.deepEqual(r.owners, [
      { kind: 'compose-project', name: 'shop', containers: [hex('c')], services: { [hex('c')]: 'web' }, disk },
      { kind: 'label', name: 'team=x', containers: [hex('c')], disk },
    ]);
  });
});
