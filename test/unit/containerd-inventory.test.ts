import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { parseBolt } from '../../collectors/lib/bbolt.js';
import { readImages } from '../../collectors/stores/containerd/images.js';
import { containerdInventory, type ContainerdDisk } from '../../collectors/stores/containerd/inventory.js';
import { nsKey } from '../../collectors/stores/containerd/keys.js';
import { parseMetaDb, type MetaDb, type NamespaceMeta, type SnapshotRecord } from '../../collectors/stores/containerd/meta-db.js';
import { parseSnapshotsDb, type SnapshotInfo, type SnapshotsDb } from '../../collectors/stores/containerd/snapshots-db.js';
import type { Inventory, StoreDir } from '../../collectors/stores/store.js';
import { hostBlobs } from './containerd-blobs.js';
import { expected, fixture } from './containerd-fixture.js';

// containerdInventory (collectors/stores/containerd/inventory.ts) on the fixture's meta.db and
// metadata.db, with the directories and files the recorded host had (expected.json) plus what a
// crash or an aborted pull leaves: which snapshot dir, blob and download is what.
const META = parseMetaDb(parseBolt(fixture('meta.db')), []);
const SNAPS = parseSnapshotsDb(parseBolt(fixture('metadata.db')), []);
const ROOT = '/var/lib/containerd';
const SNAPSHOTS = join(ROOT, 'io.containerd.snapshotter.v1.overlayfs', 'snapshots');
const CONTENT = join(ROOT, 'io.containerd.content.v1.content');
const D = (c: string) => `sha256:${c.repeat(64)}`;

const img = (tag: string) => expected.images.find((i) => i.tag === tag)!;
const [base, classic, kit] = [img('base:latest'), img('classic:latest'), img('kit:latest')];
const CLASSIC_INIT = expected.ctr.snapshots.find((s) => s.key === classic.chainIds[1])!.parent!;
const [writer, created] = [expected.containers.find((c) => c.name === 'writer')!, expected.containers.find((c) => c.name === 'created')!];
/** moby_history's two build-history blobs (held by its lease `ref_…`), and the classic build's container config. */
const HISTORY = ['sha256:4b6aa3068a12cd475ac8898edcc28a92ec72370f90bc7b558d2f8bab556ab735', 'sha256:9ea3b2be3eb9b0684bb8225e432a194c2be0ea6ddbf52e7151dfcac60991885a'];
const CONTAINER_CONFIG = 'sha256:4c874cf9d3b3b9a969bcb14bfc9dc35ca094886973c4f9190bdfced57e0afd72';

/** What each recorded snapshot dir is (docs/containerd-store-layout.md, from ctr's own mounts). */
const ROLES: Record<string, StoreDir['role']> = {
  1: 'image-layer', 2: 'image-layer', 5: 'image-layer', 14: 'image-layer', 15: 'image-layer', // base, classic (-init too), kit
  16: 'container-init', 17: 'container-layer', 18: 'container-init', 19: 'container-layer', // writer, created
  6: 'build-cache', 7: 'build-cache', 8: 'build-cache', // BuildKit's source.local (Active)
  9: 'build-cache', 10: 'build-cache', // its RUN and COPY results (Committed, 25-char keys)
  11: 'build-cache', 12: 'build-cache', // its views (View)
};

/** A leaked dir, one mid-removal, a blob no namespace records, an abandoned download. */
const LEAKED = '99';
const REMOVING = 'rm-3';
const LOOSE_BLOB = D('f');
const INGEST = 'ab'.repeat(32);
const DISK: ContainerdDisk = {
  snapshotDirs: [...Object.keys(expected.disk.snapshotDirs), LEAKED, REMOVING].sort(),
  blobFiles: [...Object.keys(expected.disk.blobs), LOOSE_BLOB].sort(),
  ingestDirs: [INGEST],
};

interface Run {
  meta?: MetaDb;
  snaps?: SnapshotsDb | null;
  disk?: ContainerdDisk;
  /** --containerd-namespace; unset: every namespace. */
  namespace?: string;
}

/** The inventory as the store takes it: images read from the namespaces measured. */
async function inventory(r: Run = {}): Promise<Inventory> {
  const meta = r.meta ?? META;
  const namespaces = [...meta.namespaces.values()].filter((ns) => !r.namespace || ns.name === r.namespace);
  const images = (await Promise.all(namespaces.map((ns) => readImages(ns, hostBlobs().blobs, [], 'meta.db')))).flat();
  return containerdInventory({
    root: ROOT, meta, snaps: r.snaps === undefined ? SNAPS : r.snaps, namespaces, everyNamespace: !r.namespace, images, disk: r.disk ?? DISK,
  });
}

const byId = (inv: Inventory) => new Map(inv.dirs.map((d) => [d.id, d]));
/** Role of every snapshot dir (orphans by the name of their dir). */
const snapshotRoles = (inv: Inventory) =>
  Object.fromEntries(inv.dirs.filter((d) => d.path.startsWith(`${SNAPSHOTS}/`)).map((d) => [d.id.replace(/^snapshot:/, ''), d.role]));
const blobRoles = (inv: Inventory) =>
  Object.fromEntries(inv.dirs.filter((d) => d.path.startsWith(join(CONTENT, 'blobs'))).map((d) => [d.id, d.role]));

/** A copy of the metadata with namespace `name` changed by `patch`. */
function patched(meta: MetaDb, name: string, patch: (ns: NamespaceMeta) => Partial<NamespaceMeta>): MetaDb {
  const ns = meta.namespaces.get(name)!;
  return { ...meta, namespaces: new Map([...meta.namespaces, [name, { ...ns, ...patch(ns) }]]) };
}

describe('containerd inventory: the fixture\'s snapshot dirs', () => {
  it('every dir has the role ctr\'s mounts tell; a dir the snapshotter has no record of is an orphan snapshot', async () => {
    const inv = await inventory();
    assert.deepEqual(snapshotRoles(inv), { ...ROLES, [LEAKED]: 'orphan', [REMOVING]: 'orphan' });
    const dirs = byId(inv);
    for (const name of [LEAKED, REMOVING]) {
      const o = dirs.get(`snapshot:${name}`)!;
      assert.deepEqual([o.kind, o.path, o.weight, o.cacheKey], ['snapshot', join(SNAPSHOTS, name), Infinity, null]);
    }
    assert.equal(inv.dirs.filter((d) => d.role === 'orphan' && d.kind === 'snapshot').length, 2);
  });

  it('an image layer with a parent names its layer blob as the record of its opaque directories; -init snapshots none', async () => {
    const inv = await inventory();
    const blobOf = new Map(expected.images.flatMap((i) => i.chainIds.map((c, n) => [c, i.manifest.layers[n]!.digest] as const)));
    const withParent = inv.dirs.filter((d) => d.role === 'image-layer' && d.opaque);
    assert.ok(withParent.length >= 2, 'the fixture has layers on layers');
    for (const d of withParent) {
      const layer = inv.layers.find((l) => l.cacheId === d.id)!;
      assert.deepEqual(d.opaqueRecord, { format: 'tar', file: join(CONTENT, 'blobs', ...blobOf.get(layer.chainId)!.split(':')), compression: 'gzip' }, layer.chainId);
    }
    const init = inv.dirs.find((d) => inv.layers.find((l) => l.cacheId === d.id)?.chainId === CLASSIC_INIT)!;
    assert.deepEqual([init.role, init.opaque, init.opaqueRecord], ['image-layer', false, undefined]);
  });

  it('BuildKit\'s records (a lease each, with -view and -variants) hold their snapshots and blobs, with the chain of layer blobs they sit on; the build history its blobs', async () => {
    const inv = await inventory();
    const holds = new Map((inv.holds ?? []).map((h) => [h.id, h]));
    const kitBlobs = kit.manifest.layers.map((l) => l.digest);
    const baseBlobs = base.manifest.layers.map((l) => l.digest);
    // the build contexts: no parent, nothing exported: an empty chain (never shared)
    for (const id of ['kvywf1kbqlex30350mwdxtzbf', 'nmeusqtx5zm82yx1by7tyn6f4', 'wa9e6pwsg2zsp69xsrdqb5iu1']) assert.deepEqual(holds.get(id)?.chain, [], id);
    // kit's two RUN records: base's layer and what each exported, once however many leases name it
    assert.deepEqual(holds.get('mi97lb3fsjl9jib84f7kxwhh4')!.chain, kitBlobs.slice(0, 2));
    assert.deepEqual(holds.get('u8ll4eh3ulmso7utl2j6yio23')!.chain, kitBlobs);
    // the record of `FROM base`: base's snapshot and blobs
    const from = holds.get('r1ljlu19vr1sqqz873zlhdw4j')!;
    assert.deepEqual(from.chain, baseBlobs);
    assert.ok(from.units.includes(`layer:${base.chainIds[0]}`) && from.units.includes(`blob:${base.id}`), from.units.join(' '));
    const history = [...holds.values()].filter((h) => h.kind === 'build-history');
    assert.equal(history.length, 1);
    for (const d of HISTORY) assert.ok(history[0]!.units.includes(`cache:${d}`), d);
    // an image's chain is its layer blobs, bottom first
    assert.deepEqual(inv.images.find((i) => i.id === kit.id)!.layerBlobs, kitBlobs);
  });

  it('walks a layer\'s fs/, and build cache and orphans whole', async () => {
    for (const d of (await inventory()).dirs.filter((x) => x.path.startsWith(`${SNAPSHOTS}/`))) {
      const whole = d.role === 'build-cache' || d.role === 'orphan';
      assert.equal(d.path, join(SNAPSHOTS, d.id.replace(/^snapshot:/, ''), ...(whole ? [] : ['fs'])), `${d.id} (${d.role})`);
      assert.equal(d.file, undefined);
    }
  });

  it('image layers: one per snapshot on an image\'s chain, the -init of the classic build included', async () => {
    const inv = await inventory();
    const keys = [...new Set([...base.chainIds, classic.chainIds[0]!, CLASSIC_INIT, classic.chainIds[1]!, ...kit.chainIds])].sort();
    assert.deepEqual(inv.layers.map((l) => l.chainId).sort(), keys);
    const layer = new Map(inv.layers.map((l) => [l.chainId, l]));
    const diffOf = new Map([base, classic, kit].flatMap((i) => i.chainIds.map((c, n) => [c, i.diffIds[n]!] as const)));
    const parentOf = new Map(expected.ctr.snapshots.map((s) => [s.key, s.parent]));
    for (const k of keys) {
      const l = layer.get(k)!;
      assert.equal(ROLES[l.cacheId!], 'image-layer', k);
      assert.equal(l.snapshotId, l.cacheId);
      assert.equal(l.namespace, 'moby');
      assert.equal(l.diffId, diffOf.get(k) ?? '', `${k}: an -init has no diff id`);
      assert.equal(l.parent, parentOf.get(k), `${k}: parent as ctr lists it`);
      // the snapshotter's usage, recorded at commit, is du -sB1 of fs/
      assert.equal(l.size, expected.disk.snapshotDirs[l.cacheId!]!.du, k);
      const dir = byId(inv).get(l.cacheId!)!;
      assert.equal(dir.weight, expected.disk.snapshotDirs[l.cacheId!]!.entries, `${k}: walk order by its entries`);
      assert.equal(dir.cacheKey, `${k}@${l.cacheId}`, 'committed: its walk is kept between scans');
    }
    assert.equal(layer.get(CLASSIC_INIT)!.cacheId, '2');
  });

  it('containers: the writable snapshot (key = container id) and its -init, the image\'s top layer beneath', async () => {
    const inv = await inventory();
    const mounts = [...inv.mounts].sort((a, b) => (a.containerId < b.containerId ? -1 : 1));
    assert.deepEqual(mounts, [
      { containerId: created.id, mountId: created.snapshotId, initId: '18', parent: base.chainIds[0] },
      { containerId: writer.id, mountId: writer.snapshotId, initId: '16', parent: base.chainIds[0] },
    ]);
    const dirs = byId(inv);
    for (const m of mounts) {
      assert.equal(dirs.get(m.mountId)!.cacheKey, null, 'a writable layer changes: never kept');
      assert.equal(dirs.get(m.initId!)!.role, 'container-init');
    }
  });

  it('build cache: BuildKit\'s 25-character snapshots and their views, by its leases and, once those are gone, by their keys', async () => {
    const bk = Object.entries(ROLES).filter(([, r]) => r === 'build-cache').map(([id]) => id);
    const keyOf = new Map([...SNAPS.snapshots.values()].map((s) => [s.id!, s.backendKey.replace(/^moby\/\d+\//, '')]));
    assert.deepEqual(bk.map((id) => keyOf.get(id)!.replace(/^sha256:[0-9a-f]{64}/, 'sha256:<hex>').replace(/^[0-9a-z]{25}/, '<id>')).sort(), [
      '<id>', '<id>', '<id>', '<id>', '<id>', '<id>-view', 'sha256:<hex>-view',
    ]);
    const withLeases = await inventory();
    for (const id of bk) assert.equal(byId(withLeases).get(id)?.role, 'build-cache', `snapshot ${id} (${keyOf.get(id)})`);
    // BuildKit's leases gone (temporary ones, or its records' after a prune that left snapshots):
    // its own ids and their views are still build cache by their keys
    const unleased = await inventory({ meta: patched(META, 'moby', () => ({ leases: new Map() })) });
    for (const id of bk.filter((i) => /^[0-9a-z]{25}(-view)?$/.test(keyOf.get(i)!))) {
      assert.equal(byId(unleased).get(id)?.role, 'build-cache', `snapshot ${id} (${keyOf.get(id)})`);
    }
    for (const inv of [withLeases, unleased]) {
      assert.ok(!inv.layers.some((l) => /^[0-9a-z]{25}(-view)?$/.test(l.chainId)), 'no BuildKit snapshot taken for an image layer');
    }
  });

  it('a snapshot the snapshotter records and no namespace does (containerd\'s GC removes it next): an orphan snapshot', async () => {
    const key = 'kvywf1kbqlex30350mwdxtzbf';
    const meta = patched(META, 'moby', (ns) => ({ snapshots: new Map([['overlayfs', new Map([...ns.snapshots.get('overlayfs')!].filter(([k]) => k !== key))]]) }));
    const inv = await inventory({ meta });
    assert.equal(byId(inv).get('snapshot:7')?.role, 'orphan');
    assert.equal(byId(inv).get('7'), undefined);
  });

  it('metadata.db unreadable (snaps null): no snapshot dir is told apart, none is called an orphan', async () => {
    const inv = await inventory({ snaps: null });
    assert.deepEqual(snapshotRoles(inv), {});
    assert.deepEqual([inv.layers, inv.mounts], [[], []]);
    // images and blobs are still told apart
    assert.equal(inv.images.length, 3);
    assert.deepEqual(blobRoles(inv), blobRoles(await inventory()));
  });
});

describe('containerd inventory: the fixture\'s blobs and downloads', () => {
  it('blobs: images\' content, BuildKit\'s history (held by its lease), orphans no namespace records', async () => {
    const inv = await inventory();
    const imageBlobs = new Set([base, classic, kit].flatMap((i) => [i.id, i.manifest.config.digest, ...i.manifest.layers.map((l) => l.digest)]));
    const want: Record<string, string> = {};
    for (const d of Object.keys(expected.disk.blobs)) want[d] = imageBlobs.has(d) || d === CONTAINER_CONFIG ? 'image-content' : 'build-cache';
    want[LOOSE_BLOB] = 'orphan';
    assert.deepEqual(blobRoles(inv), want);
    assert.deepEqual(HISTORY.map((d) => want[d]), ['build-cache', 'build-cache']);
    const loose = byId(inv).get(LOOSE_BLOB)!;
    assert.deepEqual([loose.kind, loose.path, loose.file], ['blob', join(CONTENT, 'blobs', 'sha256', 'f'.repeat(64)), true]);
    for (const d of inv.dirs.filter((x) => x.file)) assert.deepEqual([d.weight, d.cacheKey, d.index, d.opaque], [0, null, false, false]);
  });

  it('content facts: one per image-content blob, with a media type a descriptor gave it (none for the container config)', async () => {
    const inv = await inventory();
    const types = new Map<string, Set<string>>();
    const add = (d: string, t: string) => types.set(d, (types.get(d) ?? new Set()).add(t));
    for (const i of [base, classic, kit]) {
      const m = i.manifest as unknown as { mediaType: string; config: { digest: string; mediaType: string }; layers: Array<{ digest: string; mediaType: string }> };
      add(i.id, m.mediaType);
      add(m.config.digest, m.config.mediaType);
      for (const l of m.layers) add(l.digest, l.mediaType);
    }
    const facts = inv.blobs ?? [];
    assert.deepEqual(facts.map((b) => b.digest).sort(), [...types.keys(), CONTAINER_CONFIG].sort());
    for (const b of facts) {
      if (b.digest === CONTAINER_CONFIG) assert.equal(b.mediaType, null);
      else assert.ok(types.get(b.digest)!.has(b.mediaType!), `${b.digest}: ${b.mediaType}`);
    }
    // the base layer: OCI's name in base's and classic's manifests, Docker's in kit's; either is true
    assert.equal(types.get(base.manifest.layers[0]!.digest)!.size, 2);
  });

  it('a download another namespace records is left out when one namespace is asked for (its dir is the sha256 of the record\'s ref)', async () => {
    const ref = 'k8s.io-1-pull-layer';
    const dir = createHash('sha256').update(ref).digest('hex');
    const k8s: NamespaceMeta = {
      name: 'k8s.io', labels: new Map(), images: new Map(), blobs: new Map(), snapshots: new Map(), leases: new Map(), containers: new Map(),
      ingests: new Map([['pull-layer', { ref: 'pull-layer', backendRef: ref, expireAt: null, expected: null }]]),
    };
    const meta: MetaDb = { ...META, namespaces: new Map([...META.namespaces, ['k8s.io', k8s]]) };
    const disk = { ...DISK, ingestDirs: [INGEST, dir] };
    assert.deepEqual(byId(await inventory({ meta, disk, namespace: 'moby' })).has(`ingest:${dir}`), false);
    assert.equal(byId(await inventory({ meta, disk, namespace: 'moby' })).get(`ingest:${INGEST}`)?.role, 'orphan');
    assert.equal(byId(await inventory({ meta, disk })).get(`ingest:${dir}`)?.role, 'orphan', 'every namespace measured: every partial download');
  });

  it('every partial download is an orphan ingest, walked whole', async () => {
    const o = byId(await inventory()).get(`ingest:${INGEST}`)!;
    assert.deepEqual([o.role, o.kind, o.path, o.weight], ['orphan', 'ingest', join(CONTENT, 'ingest', INGEST), Infinity]);
  });

  it('the roots and images handed on as they are', async () => {
    const inv = await inventory();
    assert.deepEqual(inv.roots, [ROOT]);
    assert.deepEqual(inv.images.map((i) => i.id), [kit.id, base.id, classic.id]);
  });
});

describe('containerd inventory: one namespace (everyNamespace false)', () => {
  it('moby alone: the same snapshot dirs and image blobs; moby_history\'s own blobs are left out, not orphans', async () => {
    const all = await inventory();
    const one = await inventory({ namespace: 'moby' });
    assert.deepEqual(snapshotRoles(one), snapshotRoles(all));
    const want = blobRoles(all);
    for (const d of HISTORY) delete want[d];
    assert.deepEqual(blobRoles(one), want);
    assert.equal(byId(one).get(LOOSE_BLOB)?.role, 'orphan', 'a file no namespace records is an orphan still');
  });

  it('moby_history alone: moby\'s snapshots and blobs are neither measured nor orphans', async () => {
    const inv = await inventory({ namespace: 'moby_history' });
    assert.deepEqual(snapshotRoles(inv), { [LEAKED]: 'orphan', [REMOVING]: 'orphan' });
    assert.deepEqual([inv.layers, inv.mounts, inv.images], [[], [], []]);
    const roles = blobRoles(inv);
    // what moby_history records (the kit manifest and config too) is its; nothing of moby's only
    assert.deepEqual(Object.keys(roles).sort(), [...HISTORY, kit.id, kit.manifest.config.digest, LOOSE_BLOB].sort());
    assert.equal(roles[LOOSE_BLOB], 'orphan');
    assert.ok(!Object.entries(roles).some(([d, r]) => r === 'orphan' && d !== LOOSE_BLOB));
  });

  it('another namespace\'s snapshot: measured under its prefixed key when every namespace is, left out when one is asked for', async () => {
    const KEY = `sha256:${'1'.repeat(64)}`;
    const record: SnapshotRecord = { key: KEY, backendKey: `k8s.io/3/${KEY}`, parent: null, labels: new Map(), createdAt: null };
    const k8s: NamespaceMeta = {
      name: 'k8s.io', labels: new Map(), images: new Map(), blobs: new Map(), ingests: new Map(),
      snapshots: new Map([['overlayfs', new Map([[KEY, record]])]]), leases: new Map(), containers: new Map(),
    };
    const meta: MetaDb = { ...META, namespaces: new Map([...META.namespaces, ['k8s.io', k8s]]) };
    const info: SnapshotInfo = { backendKey: record.backendKey!, id: '42', kind: 'Committed', parent: null, size: 4096, inodes: 1, labels: new Map(), createdAt: null };
    const snaps: SnapshotsDb = { snapshots: new Map([...SNAPS.snapshots, [info.backendKey, info]]) };
    const disk = { ...DISK, snapshotDirs: [...DISK.snapshotDirs, '42'] };

    const all = await inventory({ meta, snaps, disk });
    assert.equal(byId(all).get('42')?.role, 'image-layer', 'a layer no listed image holds');
    const layer = all.layers.find((l) => l.cacheId === '42')!;
    assert.deepEqual([layer.chainId, layer.namespace], [nsKey('k8s.io', KEY), 'k8s.io']);
    assert.equal(nsKey('moby', KEY), KEY, 'Docker\'s own keys go unprefixed');

    const moby = await inventory({ meta, snaps, disk, namespace: 'moby' });
    assert.equal(byId(moby).get('42'), undefined);
    assert.equal(byId(moby).get('snapshot:42'), undefined, 'not an orphan: k8s.io records it');
    assert.ok(!moby.layers.some((l) => l.namespace === 'k8s.io'));
  });

  describe('a Kubernetes node\'s namespace: the base image imported into k8s.io, a pod\'s sandbox and container on it', () => {
    const APP = 'a'.repeat(64);
    const SANDBOX = 'b'.repeat(64);
    const CONFIG_REF = base.manifest.config.digest;
    const names = ['docker.io/library/base:latest', `docker.io/library/base@${base.id}`, CONFIG_REF];
    const POD = { 'io.kubernetes.pod.name': 'web', 'io.kubernetes.pod.namespace': 'shop', 'io.kubernetes.pod.uid': 'u1' };
    const snap = (key: string, parent: string | null, seq: number): SnapshotRecord => ({ key, backendKey: `k8s.io/${seq}/${key}`, parent, labels: new Map(), createdAt: null });
    const chain = base.chainIds.map((k, i) => snap(k, base.chainIds[i - 1] ?? null, 100 + i));
    const top = base.chainIds[base.chainIds.length - 1]!;
    const records = [...chain, snap(APP, top, 200), snap(SANDBOX, top, 201)];
    const container = (id: string, labels: Record<string, string>) => ({
      id, image: names[0]!, snapshotKey: id, snapshotter: 'overlayfs', labels: new Map(Object.entries(labels)), createdAt: '2026-12-01T10:00:00Z',
    });
    const k8s: NamespaceMeta = {
      name: 'k8s.io', labels: new Map(),
      images: new Map(names.map((n) => [n, { name: n, digest: base.id, mediaType: base.manifest.mediaType ?? null, size: null, labels: new Map(), annotations: new Map(), createdAt: null }])),
      blobs: new Map(), ingests: new Map(),
      snapshots: new Map([['overlayfs', new Map(records.map((r) => [r.key, r]))]]),
      leases: new Map(),
      containers: new Map([
        [APP, container(APP, { ...POD, 'io.cri-containerd.kind': 'container', 'io.kubernetes.container.name': 'app' })],
        [SANDBOX, container(SANDBOX, { ...POD, 'io.cri-containerd.kind': 'sandbox' })],
      ]),
    };
    const info = (r: SnapshotRecord, id: number): SnapshotInfo => ({
      backendKey: r.backendKey!, id: String(id), kind: r.key.length === 64 && /^[ab]+$/.test(r.key) ? 'Active' : 'Committed', parent: null, size: 4096, inodes: 1, labels: new Map(), createdAt: null,
    });
    const ids = records.map((r, i) => [r, 60 + i] as const);
    const meta: MetaDb = { ...META, namespaces: new Map([...META.namespaces, ['k8s.io', k8s]]) };
    const snaps: SnapshotsDb = { snapshots: new Map([...SNAPS.snapshots, ...ids.map(([r, id]) => [r.backendKey!, info(r, id)] as const)]) };
    const disk = { ...DISK, snapshotDirs: [...DISK.snapshotDirs, ...ids.map(([, id]) => String(id))].sort() };
    const dirOf = (key: string) => String(ids.find(([r]) => r.key === key)![1]);

    it('the CRI\'s three refs are one image, its id and layers prefixed with the namespace; its blobs are the moby image\'s', async () => {
      const inv = await inventory({ meta, snaps, disk });
      const mine = inv.images.filter((i) => i.namespace === 'k8s.io');
      assert.equal(mine.length, 1, 'tag, digest and sha256:<config> name one image');
      assert.deepEqual([mine[0]!.id, mine[0]!.tags, mine[0]!.digests], [nsKey('k8s.io', base.id), ['base:latest'], [`base@${base.id}`]]);
      assert.deepEqual(mine[0]!.layerKeys, base.chainIds.map((k) => nsKey('k8s.io', k)));
      const moby = inv.images.find((i) => i.id === base.id)!;
      assert.deepEqual([...mine[0]!.blobs!].sort(), [...moby.blobs!].sort(), 'the same blobs: one set of files');
      // two unpackings: the moby chain and the k8s.io chain, each its own dirs
      for (const k of base.chainIds) {
        const layers = inv.layers.filter((l) => l.diffId !== '' && (l.chainId === k || l.chainId === nsKey('k8s.io', k)));
        assert.deepEqual(layers.map((l) => l.namespace).sort(), ['k8s.io', 'moby']);
        assert.notEqual(layers[0]!.cacheId, layers[1]!.cacheId);
      }
    });

    it('a CRI container\'s snapshot (no -init) is its writable layer, not an image layer; sandboxes are told apart', async () => {
      const inv = await inventory({ meta, snaps, disk });
      for (const id of [APP, SANDBOX]) assert.equal(byId(inv).get(dirOf(id))?.role, 'container-layer', id);
      const mounts = inv.mounts.filter((m) => m.containerId.startsWith('k8s.io/'));
      assert.deepEqual(
        mounts.map((m) => [m.containerId, m.mountId, m.initId, m.parent]).sort(),
        [[nsKey('k8s.io', APP), dirOf(APP), null, nsKey('k8s.io', top)], [nsKey('k8s.io', SANDBOX), dirOf(SANDBOX), null, nsKey('k8s.io', top)]],
      );
      const byContainer = new Map((inv.containers ?? []).map((c) => [c.id, c]));
      const app = byContainer.get(nsKey('k8s.io', APP))!;
      assert.deepEqual([app.name, app.imageId, app.namespace, app.kind, app.labels['io.kubernetes.pod.name']], ['app', nsKey('k8s.io', base.id), 'k8s.io', 'container', 'web']);
      const sandbox = byContainer.get(nsKey('k8s.io', SANDBOX))!;
      assert.deepEqual([sandbox.name, sandbox.kind], ['web', 'sandbox']);
      assert.ok(!(inv.containers ?? []).some((c) => c.namespace === 'moby'), 'Docker\'s containers come from its root, not from meta.db');
    });

    it('a container whose image name is gone still finds its image by the snapshot it sits on', async () => {
      const renamed = patched(meta, 'k8s.io', (ns) => ({ containers: new Map([[APP, { ...ns.containers.get(APP)!, image: 'gone:latest' }]]) }));
      const inv = await inventory({ meta: renamed, snaps, disk });
      assert.equal(inv.containers!.find((c) => c.id === nsKey('k8s.io', APP))!.imageId, nsKey('k8s.io', base.id));
    });
  });
});
