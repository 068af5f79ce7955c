// The storage-driver verdict on plain data, the choice between drivers on disk, the vfs backend
// and the duplicate bytes of vfs.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DTypeProbe } from '../../collectors/host/dtype.js';
import type { LayerFact, MountFact } from '../../collectors/lib/facts.js';
import { hostPaths } from '../../collectors/host/paths.js';
import { readConfiguredDriver, readDriverCandidates, readOverlayAvailable } from '../../collectors/stores/graphdriver/detect.js';
import { graphdriverStore, missingDirs } from '../../collectors/stores/graphdriver/index.js';
import type { StoreContext } from '../../collectors/stores/store.js';
import { chooseDriver, driverVerdict, vfsDuplicateBytes, type DriverEvidence } from '../../collectors/stores/graphdriver/verdict.js';
import { CollectorRunner } from '../../agent/scan/runner.js';

const noDType: DTypeProbe = {
  dType: false,
  method: 'superblock',
  fstype: 'ext4',
  device: '/dev/loop3',
  mountpoint: '/tmp/x',
};

function evidence(over: Partial<DriverEvidence> = {}): DriverEvidence {
  return {
    candidates: [{ name: 'vfs', metadataMtimeMs: 1000, layerDirEntries: 3 }],
    apiDriver: null,
    apiStatus: [],
    configured: null,
    overlayAvailable: true,
    probe: noDType,
    ...over,
  };
}

describe('driverVerdict', () => {
  it('vfs + overlay available + no d_type: a fallback, and the reason names d_type and the device', () => {
    const v = driverVerdict(evidence(), 'vfs', true);
    assert.equal(v.name, 'vfs');
    assert.equal(v.vfsFallback, true);
    assert.equal(v.dType, false);
    assert.equal(v.backingFs, 'ext4');
    assert.match(v.reason, /^ext4 on \/dev\/loop3 \(mounted at \/tmp\/x\) lacks d_type \(the filetype feature/);
    assert.match(v.reason, /overlay2 refused it and the daemon fell back to vfs/);
    assert.match(v.reason, /[Ww]aste and copy-up are not measured on vfs/);
  });

  it('XFS without ftype says ftype', () => {
    const v = driverVerdict(evidence({ probe: { ...noDType, fstype: 'xfs', device: '/dev/sdb1' } }), 'vfs', true);
    assert.match(v.reason, /xfs on \/dev\/sdb1 .* lacks d_type \(ftype=1/);
  });

  it('vfs chosen in daemon.json: no fallback', () => {
    const v = driverVerdict(evidence({ configured: { driver: 'vfs', path: '/etc/docker/daemon.json' } }), 'vfs', true);
    assert.equal(v.vfsFallback, false);
    assert.match(v.reason, /chosen on purpose .*daemon\.json/);
  });

  it('vfs without overlay in the kernel: no fallback', () => {
    const v = driverVerdict(evidence({ overlayAvailable: false }), 'vfs', true);
    assert.equal(v.vfsFallback, false);
    assert.match(v.reason, /no overlay filesystem/);
  });

  it('overlay2 on a filesystem with d_type: no fallback, no reason', () => {
    const v = driverVerdict(
      evidence({
        candidates: [{ name: 'overlay2', metadataMtimeMs: 1, layerDirEntries: 5 }],
        probe: { ...noDType, dType: true, device: '/dev/vda', mountpoint: '/' },
        apiDriver: 'overlay2',
        apiStatus: [['Backing Filesystem', 'extfs'], ['Supports d_type', 'true']],
      }),
      'overlay2',
      true,
    );
    assert.deepEqual(v, { name: 'overlay2', store: 'graphdriver', backingFs: 'ext4', dType: true, vfsFallback: false, reason: '' });
  });

  it("the probe decides d_type; the API's \"Supports d_type\" only when the probe could not", () => {
    const api: Array<[string, string]> = [['Supports d_type', 'false'], ['Backing Filesystem', 'xfs']];
    assert.equal(driverVerdict(evidence({ apiStatus: api, probe: { ...noDType, dType: true } }), 'overlay2', true).dType, true);
    const unprobed = driverVerdict(evidence({ apiStatus: api, probe: null }), 'vfs', true);
    assert.equal(unprobed.dType, false);
    assert.equal(unprobed.backingFs, 'xfs');
    assert.match(unprobed.reason, /Supports d_type/);
    assert.equal(driverVerdict(evidence({ apiStatus: [], probe: { ...noDType, dType: null, method: 'none' } }), 'vfs', true).dType, null);
  });

  it('drivers without a backend are named, and what is not measured is said', () => {
    const v = driverVerdict(evidence({ probe: { ...noDType, fstype: 'btrfs', dType: true } }), 'btrfs', false);
    assert.equal(v.name, 'btrfs');
    assert.equal(v.vfsFallback, false);
    assert.match(v.reason, /btrfs is detected but its layers are not measured/);
  });

  it('the disk wins over the API, and says so', () => {
    const v = driverVerdict(evidence({ apiDriver: 'overlay2' }), 'vfs', true);
    assert.match(v.reason, /The Docker API reports overlay2, but the disk shows vfs in use/);
  });
});

describe('chooseDriver', () => {
  it('the driver whose layer dir has entries wins over a newer, empty one', () => {
    const c = chooseDriver({
      candidates: [
        { name: 'overlay2', metadataMtimeMs: 2000, layerDirEntries: 0 },
        { name: 'vfs', metadataMtimeMs: 1000, layerDirEntries: 4 },
      ],
      apiDriver: null,
      configured: null,
    });
    assert.deepEqual(c, { name: 'vfs', source: 'disk' });
  });

  it('among used ones, the newest metadata wins; the API does not overrule the disk', () => {
    const c = chooseDriver({
      candidates: [
        { name: 'overlay2', metadataMtimeMs: 1000, layerDirEntries: 9 },
        { name: 'vfs', metadataMtimeMs: 3000, layerDirEntries: 4 },
      ],
      apiDriver: 'overlay2',
      configured: null,
    });
    assert.equal(c.name, 'vfs');
  });

  it('the API, then daemon.json, break exact ties', () => {
    const tie = [
      { name: 'overlay2', metadataMtimeMs: 1000, layerDirEntries: 0 },
      { name: 'vfs', metadataMtimeMs: 1000, layerDirEntries: 0 },
    ];
    assert.equal(chooseDriver({ candidates: tie, apiDriver: null, configured: null }).name, 'overlay2');
    assert.equal(chooseDriver({ candidates: tie, apiDriver: 'vfs', configured: null }).name, 'vfs');
    assert.equal(chooseDriver({ candidates: tie, apiDriver: null, configured: { driver: 'vfs', path: 'x' } }).name, 'vfs');
  });

  it('with nothing on disk: the API, then daemon.json, else nothing', () => {
    assert.deepEqual(chooseDriver({ candidates: [], apiDriver: 'zfs', configured: null }), { name: 'zfs', source: 'api' });
    assert.deepEqual(chooseDriver({ candidates: null, apiDriver: null, configured: { driver: 'vfs', path: 'x' } }), {
      name: 'vfs',
      source: 'daemon.json',
    });
    assert.deepEqual(chooseDriver({ candidates: null, apiDriver: null, configured: null }), { name: null, source: 'none' });
  });
});

const layer = (n: number, size: number | null, parent: string | null = null): LayerFact => ({
  chainId: `sha256:c${n}`,
  diffId: `sha256:d${n}`,
  parent,
  cacheId: `dir${n}`,
  size,
});
const dirsOf = (m: Record<string, number>) =>
  new Map(Object.entries(m).map(([id, disk]) => [id, { bytes: { disk, apparent: disk } }]));

describe('vfsDuplicateBytes', () => {
  it('image layers: disk bytes of the full copies less layerdb sizes', () => {
    const layers = [layer(1, 1000), layer(2, 300, 'sha256:c1'), layer(3, 200, 'sha256:c2')];
    // each dir holds its parent's copy plus its own changes
    const dirs = dirsOf({ dir1: 1100, dir2: 1450, dir3: 1700 });
    assert.equal(vfsDuplicateBytes(layers, [], dirs), 1100 + 1450 + 1700 - 1500);
  });

  it('containers: the copy of the parent in -init and in the writable layer', () => {
    const layers = [layer(1, 1000)];
    const mounts: MountFact[] = [{ containerId: 'k', mountId: 'rw', initId: 'rw-init', parent: 'sha256:c1' }];
    const dirs = dirsOf({ dir1: 1000, 'rw-init': 1010, rw: 1500 });
    assert.equal(vfsDuplicateBytes(layers, mounts, dirs), 0 + 1000 + 1010);
  });

  it('layers without a size or a measured dir are left out; never negative', () => {
    assert.equal(vfsDuplicateBytes([layer(1, null), layer(2, 50)], [], dirsOf({ dir1: 999 })), 0);
    assert.equal(vfsDuplicateBytes([layer(1, 5000)], [], dirsOf({ dir1: 4096 })), 0);
  });
});

describe('driver evidence on disk', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ldu-drv-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** What the scan gives a store: nothing from the API, no BuildKit records. */
  function storeContext(root: string): { ctx: StoreContext; runner: CollectorRunner } {
    const runner = new CollectorRunner();
    const ctx = { dockerRoot: root, host: hostPaths({ rootfs: dir }), containerd: {}, collect: runner.collect, api: async () => null, buildCacheIds: Promise.resolve(new Set<string>()) };
    return { ctx, runner };
  }

  it('an old image/overlay2 with an empty overlay2/ loses to image/vfs with layers in vfs/dir', async () => {
    const root = join(dir, 'docker');
    await mkdir(join(root, 'image', 'overlay2', 'layerdb', 'sha256'), { recursive: true });
    await writeFile(join(root, 'image', 'overlay2', 'repositories.json'), '{"Repositories":{}}');
    await mkdir(join(root, 'overlay2', 'l'), { recursive: true });
    await mkdir(join(root, 'image', 'vfs', 'layerdb', 'sha256'), { recursive: true });
    await writeFile(join(root, 'image', 'vfs', 'repositories.json'), '{"Repositories":{}}');
    await mkdir(join(root, 'vfs', 'dir', 'abc'), { recursive: true });
    const old = new Date(Date.now() - 86_400_000);
    for (const p of ['repositories.json', 'layerdb', 'layerdb/sha256']) await utimes(join(root, 'image', 'vfs', p), old, old);

    const candidates = await readDriverCandidates(root);
    const byName = new Map(candidates.map((c) => [c.name, c]));
    assert.equal(byName.get('overlay2')?.layerDirEntries, 0, 'l/ is bookkeeping');
    assert.equal(byName.get('vfs')?.layerDirEntries, 1);
    assert.ok((byName.get('vfs')?.metadataMtimeMs ?? 0) < (byName.get('overlay2')?.metadataMtimeMs ?? 0));
    assert.equal(chooseDriver({ candidates, apiDriver: 'overlay2', configured: null }).name, 'vfs');

    const { ctx, runner } = storeContext(root);
    const vfs = (await graphdriverStore.detect(ctx))!;
    assert.deepEqual([vfs.store, vfs.driver, vfs.root], ['graphdriver', 'vfs', join(root, 'vfs', 'dir')]);
    const inv = await vfs.inventory(ctx);
    // A full copy is walked whole and never indexed; nothing refers to `abc`, so it is an orphan.
    assert.deepEqual(inv.dirs, [{ id: 'abc', role: 'orphan', path: join(root, 'vfs', 'dir', 'abc'), weight: Infinity, cacheKey: null, kind: 'layer-dir', index: false, opaque: false }]);
    assert.deepEqual(runner.errors, []);
    // The store's verdict carries what vfs holds beyond the layers' own changes.
    const measured = new Map([['dir1', { id: 'dir1', role: 'image-layer' as const, path: 'x', bytes: { disk: 4096, apparent: 4096 } }]]);
    assert.equal(vfs.verdict(null, { ...inv, layers: [layer(1, 10)] }, measured).vfsDuplicateBytes, 4086);
  });

  it('a fresh vfs store has no vfs/dir yet: no layers and no problem; an unmeasured driver has no directories to walk', async () => {
    const fresh = join(dir, 'fresh');
    await mkdir(join(fresh, 'image', 'vfs', 'layerdb', 'sha256'), { recursive: true });
    const { ctx, runner } = storeContext(fresh);
    const vfs = (await graphdriverStore.detect(ctx))!;
    assert.equal(vfs.driver, 'vfs');
    assert.deepEqual((await vfs.inventory(ctx)).dirs, []);
    assert.deepEqual(runner.errors, []);

    const btrfsRoot = join(dir, 'btrfs');
    await mkdir(join(btrfsRoot, 'image', 'btrfs', 'layerdb', 'sha256'), { recursive: true });
    await mkdir(join(btrfsRoot, 'btrfs', 'subvolumes', 'abc'), { recursive: true });
    const b = storeContext(btrfsRoot);
    const btrfs = (await graphdriverStore.detect(b.ctx))!;
    assert.equal(btrfs.driver, 'btrfs');
    assert.deepEqual((await btrfs.inventory(b.ctx)).dirs, []);
    const verdict = btrfs.verdict(null, await btrfs.inventory(b.ctx), new Map());
    assert.match(verdict.reason, /not measured \(layerdu measures overlay2 and vfs\)/);
    assert.equal('vfsDuplicateBytes' in verdict, false, 'vfs only');
  });

  it('a layer record whose directory is gone is named, never a silent 0', async () => {
    const root = join(dir, 'lost');
    const chain = `sha256:${'c'.repeat(64)}`;
    const entry = join(root, 'image', 'overlay2', 'layerdb', 'sha256', 'c'.repeat(64));
    await mkdir(entry, { recursive: true });
    await writeFile(join(entry, 'diff'), chain);
    await writeFile(join(entry, 'cache-id'), 'a'.repeat(64));
    await writeFile(join(entry, 'size'), '10');
    await mkdir(join(root, 'overlay2', 'l'), { recursive: true });
    await mkdir(join(root, 'overlay2', 'b'.repeat(64), 'diff'), { recursive: true });
    const { ctx, runner } = storeContext(root);
    const store = (await graphdriverStore.detect(ctx))!;
    const inv = await store.inventory(ctx);
    assert.deepEqual(inv.dirs.map((d) => [d.id, d.role]), [['b'.repeat(64), 'orphan']]);
    assert.deepEqual(runner.errors, [
      { source: 'layer-walker', path: join(root, 'overlay2', 'a'.repeat(64)), message: 'recorded layer directory missing: its bytes count as 0 (removed during the scan, or lost)' },
    ]);
    assert.deepEqual(missingDirs(new Set(['x', 'y']), [], [{ containerId: 'k', mountId: 'x', initId: 'x-init', parent: null }]), ['x-init']);
  });

  it('no image/<driver>/ and no API: no classic store here', async () => {
    const empty = join(dir, 'empty');
    await mkdir(empty);
    assert.equal(await graphdriverStore.detect(storeContext(empty).ctx), null);
  });

  it('daemon.json: read when readable and about this root; never required', async () => {
    const root = join(dir, 'docker');
    await mkdir(root);
    // The host's / is `dir`: daemon.json is read under it, and its data-root is a host path.
    const host = hostPaths({ rootfs: dir });
    const cfg = join(dir, 'etc', 'docker', 'daemon.json');
    assert.equal(await readConfiguredDriver(root, host), null, 'missing');
    await mkdir(join(dir, 'etc', 'docker'), { recursive: true });
    await writeFile(cfg, JSON.stringify({ 'storage-driver': 'vfs', 'data-root': '/docker' }));
    assert.deepEqual(await readConfiguredDriver(root, host), { driver: 'vfs', path: cfg });
    assert.equal(await readConfiguredDriver(join(dir, 'other'), host), null, 'another data root');
    await writeFile(cfg, JSON.stringify({ 'storage-driver': 'vfs' }));
    assert.equal(await readConfiguredDriver(root, host), null, 'no data-root: about /var/lib/docker only');
    await mkdir(join(dir, 'var', 'lib', 'docker'), { recursive: true });
    assert.deepEqual(await readConfiguredDriver(join(dir, 'var', 'lib', 'docker'), host), { driver: 'vfs', path: cfg }, 'the default root, under rootfs');
    await writeFile(cfg, '{ not json');
    assert.equal(await readConfiguredDriver(root, host), null);
  });

  it('overlay in /proc/filesystems, through procPath', async () => {
    const host = hostPaths({ proc: dir });
    assert.equal(await readOverlayAvailable(host), null);
    await writeFile(join(dir, 'filesystems'), 'nodev\tsysfs\n\text4\nnodev\toverlay\n');
    assert.equal(await readOverlayAvailable(host), true);
    await writeFile(join(dir, 'filesystems'), 'nodev\tsysfs\n\text4\nnodev\tfuse.overlayfs\n');
    assert.equal(await readOverlayAvailable(host), false);
  });
});
