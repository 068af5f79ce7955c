// The persisted layer cache (issue 16): the file format on literals and on damaged buffers, the
// stamps on a real directory removed and made again, the walk step reusing only what still
// carries its stamp, and the file as a run reads and writes it.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Problem } from '../../collectors/lib/facts.js';
import { entryAt, find, hashPath } from '../../collectors/lib/path-index.js';
import { indexFromEntries } from '../../collectors/lib/path-index-builder.js';
import type { StoreDir } from '../../collectors/stores/store.js';
import { cacheFileName, cacheSignature, loadLayerCache, readStamp, refuseCacheDir, saveLayerCache } from '../../agent/scan/layer-cache-file.js';
import { CACHE_FORMAT_VERSION, decodeLayerCache, encodeLayerCache, sameStamp, type LayerStamp } from '../../agent/scan/layer-cache-format.js';
import { defaultCacheDir, PersistedLayerCache } from '../../agent/scan/persisted-cache.js';
import { walkDirs, type CachedWalk, type LayerCache } from '../../agent/scan/walk-dirs.js';

const stamp = (n: number, record = 'size=10'): LayerStamp => ({ ino: BigInt(n), dev: 2049n, ctimeNs: 1_700_000_000_123_456_789n + BigInt(n), record });

function literals(): LayerCache {
  const big = indexFromEntries([
    ['etc/passwd', { kind: 'file', disk: 4096, apparent: 1234 }],
    ['etc/hosts', { kind: 'file', disk: 4096, apparent: 12, ino: 77 }],
    ['usr/bin/a', { kind: 'file', disk: 8192, apparent: 5000, ino: 99 }],
    ['opt', { kind: 'opaque', disk: 4096, apparent: 0 }],
    ['opt/.wh.gone', { kind: 'whiteout', disk: 0, apparent: 0 }],
    ['dev/null', { kind: 'other', disk: 0, apparent: 0 }],
    ['naïve/€', { kind: 'file', disk: 4096, apparent: 3 }],
  ]);
  find(big, hashPath('etc/passwd')); // builds its lookup table, which is kept too
  const small = indexFromEntries([['a', { kind: 'file', disk: 4096, apparent: 1 }]]);
  return new Map<string, CachedWalk>([
    ['sha256:aaa@dir1', { bytes: { disk: 36864, apparent: 6249 }, index: big, stamp: stamp(1) }],
    ['sha256:bbb@dir2', { bytes: { disk: 4096, apparent: 1 }, index: small, stamp: stamp(2, 'size=1 inodes=2') }],
    ['sha256:ccc@dir3', { bytes: { disk: 0, apparent: 0 }, index: null, stamp: stamp(3, '') }],
  ]);
}
const WASTE = new Map([['sha256:img:dir1,dir2', { disk: 4096, apparent: 12 }]]);

function assertSameCache(a: LayerCache, b: LayerCache): void {
  assert.deepEqual([...a.keys()], [...b.keys()]);
  for (const [k, w] of a) {
    const v = b.get(k)!;
    assert.deepEqual(v.bytes, w.bytes, k);
    assert.deepEqual(v.stamp, w.stamp, k);
    assert.deepEqual(v.index, w.index, k);
  }
}

describe('layer cache file (issue 16)', () => {
  describe('encode and decode', () => {
    it('gives back the entries, their stamps, indexes (typed arrays, lookup table) and waste figures', () => {
      const cache = literals();
      const buf = encodeLayerCache(cache, '9.9.9', WASTE);
      const r = decodeLayerCache(buf);
      assert.ok(r.ok, r.ok ? '' : r.reason);
      assert.equal(r.layerduVersion, '9.9.9');
      assertSameCache(cache, r.entries);
      assert.deepEqual(r.waste, WASTE);
      const ix = r.entries.get('sha256:aaa@dir1')!.index!;
      assert.ok(ix.hashes instanceof Float64Array && ix.parents instanceof Int32Array && ix.kinds instanceof Uint8Array && ix.table instanceof Int32Array);
      assert.deepEqual(entryAt(ix, 'etc/hosts'), { kind: 'file', disk: 4096, apparent: 12, ino: 77 });
      assert.deepEqual(entryAt(ix, 'naïve/€'), { kind: 'file', disk: 4096, apparent: 3 });
      assert.equal(entryAt(ix, 'opt')?.kind, 'opaque');
      // The decoded arrays own their memory: not views into the file's bytes.
      buf.fill(0);
      assert.equal(entryAt(ix, 'usr/bin/a')?.ino, 99);
    });

    it('is deterministic, little-endian, and starts with its magic, format and layerdu version', () => {
      const a = encodeLayerCache(literals(), '0.1.0', WASTE);
      assert.deepEqual(a, encodeLayerCache(literals(), '0.1.0', WASTE));
      assert.equal(a.toString('latin1', 0, 8), 'LDUCACHE');
      assert.equal(a.readUInt32LE(8), CACHE_FORMAT_VERSION);
      assert.equal(a.readUInt32LE(16), 3, 'three entries');
      assert.equal(a.toString('utf8', 66, 66 + a.readUInt16LE(64)), '0.1.0');
      assert.equal(a.length % 8, 0);
    });

    it('an empty cache, and walks without a stamp are not written', () => {
      const r = decodeLayerCache(encodeLayerCache(new Map(), '1'));
      assert.ok(r.ok);
      assert.equal(r.entries.size, 0);
      const noStamp: LayerCache = new Map([['k', { bytes: { disk: 1, apparent: 1 }, index: null }]]);
      const s = decodeLayerCache(encodeLayerCache(noStamp, '1'));
      assert.ok(s.ok);
      assert.equal(s.entries.size, 0);
    });

    it('a truncated file, at every length, is a reason and never a throw', () => {
      const buf = encodeLayerCache(literals(), '0.1.0', WASTE);
      for (let n = 0; n < buf.length; n++) {
        const r = decodeLayerCache(buf.subarray(0, n));
        assert.equal(r.ok, false, `truncated to ${n}`);
        if (!r.ok) assert.match(r.reason, /truncated|bad magic|header|checksum/, `at ${n}: ${r.reason}`);
      }
      const padded = decodeLayerCache(Buffer.concat([buf, Buffer.alloc(8)]));
      assert.equal(padded.ok, false);
    });

    it('a flipped bit anywhere is a reason (the checksum covers the header and the body)', () => {
      const buf = encodeLayerCache(literals(), '0.1.0', WASTE);
      for (let i = 0; i < buf.length; i++) {
        for (const bit of [0x01, 0x80]) {
          const copy = Buffer.from(buf);
          copy[i]! ^= bit;
          const r = decodeLayerCache(copy);
          assert.equal(r.ok, false, `byte ${i} bit ${bit}`);
        }
      }
    });

    it('names a wrong format version, a wrong magic and a foreign file', () => {
      const buf = encodeLayerCache(literals(), '0.1.0');
      const v = Buffer.from(buf);
      v.writeUInt32LE(CACHE_FORMAT_VERSION + 1, 8);
      assert.deepEqual(decodeLayerCache(v), { ok: false, reason: `format version ${CACHE_FORMAT_VERSION + 1}, this layerdu reads ${CACHE_FORMAT_VERSION}` });
      const m = Buffer.from(buf);
      m.write('XDUCACHE', 0, 'latin1');
      assert.deepEqual(decodeLayerCache(m), { ok: false, reason: 'not a layerdu cache file (bad magic)' });
      assert.equal(decodeLayerCache(Buffer.from('{"json": "no"}')).ok, false);
      assert.equal(decodeLayerCache(new Uint8Array(0)).ok, false);
    });

    it('checks the body beyond the checksum: a body rewritten with a valid checksum but broken counts is refused', async () => {
      const { createHash } = await import('node:crypto');
      const buf = encodeLayerCache(new Map([['k', { bytes: { disk: 1, apparent: 1 }, index: indexFromEntries([['a/b', { kind: 'file', disk: 1, apparent: 1 }]]), stamp: stamp(1) }]]), '1');
      const headerBytes = buf.readUInt32LE(12);
      const entryAt0 = headerBytes + 8 + 8; // key "k" and record padded to 8 (4+1+2+7 = 14 → 16)
      const copy = Buffer.from(buf);
      copy.writeUInt32LE(0xffffffff, entryAt0 + 44); // the entry count
      createHash('sha256').update(copy.subarray(0, 32)).update(copy.subarray(64)).digest().copy(copy, 32);
      const r = decodeLayerCache(copy);
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.reason, /bad flags or counts|truncated/);
    });
  });

  describe('stamps', () => {
    let root: string;
    before(async () => {
      root = await mkdtemp(join(tmpdir(), 'ldu-stamp-'));
    });
    after(() => rm(root, { recursive: true, force: true }));

    it('a directory removed and made again under the same name does not match; the same one does', async () => {
      const dir = join(root, 'layer', 'diff');
      await mkdir(dir, { recursive: true });
      const a = await readStamp(dir, 'size=5');
      assert.ok(a);
      assert.ok(sameStamp(a, await readStamp(dir, 'size=5')));
      assert.equal(sameStamp(a, await readStamp(dir, 'size=6')), false, 'another size record');
      await rm(join(root, 'layer'), { recursive: true });
      await sleep(20); // past the filesystem clock's tick: ext4 may give the new one the old inode
      await mkdir(dir, { recursive: true });
      assert.equal(sameStamp(a, await readStamp(dir, 'size=5')), false, 'recreated: new inode or ctime');
      assert.equal(await readStamp(join(root, 'missing'), ''), null);
      assert.equal(sameStamp(undefined, a), false);
    });

    it('walkDirs reuses a kept walk only while the directory carries its stamp', async () => {
      const base = join(root, 'walk');
      const content = join(base, 'l1', 'diff');
      await mkdir(content, { recursive: true });
      await writeFile(join(content, 'a'), 'x'.repeat(5000));
      const d: StoreDir = { id: 'l1', role: 'image-layer', path: content, weight: 1, cacheKey: 'sha256:c1@l1', record: 'size=5000', index: true, opaque: false };
      const cache: LayerCache = new Map();
      const problems: Problem[] = [];
      const first = await walkDirs([d], problems, cache, { opaqueFromRecords: false });
      assert.deepEqual([first.layersWalked, first.layersReused, first.fresh.size], [1, 0, 1]);
      assert.ok(cache.get('sha256:c1@l1')?.stamp);
      const second = await walkDirs([d], problems, cache, { opaqueFromRecords: false });
      assert.deepEqual([second.layersWalked, second.layersReused, second.fresh.size], [0, 1, 0]);
      assert.equal(second.indexes.get('l1'), first.indexes.get('l1'), 'the kept index itself');
      // docker rmi and a rebuild that happens to reuse the id: another tree in a new directory.
      await rm(join(base, 'l1'), { recursive: true });
      await sleep(20);
      await mkdir(content, { recursive: true });
      await writeFile(join(content, 'b'), 'y'.repeat(9000));
      const third = await walkDirs([d], problems, cache, { opaqueFromRecords: false });
      assert.deepEqual([third.layersWalked, third.layersReused], [1, 0], 'walked again, not the stale figures');
      assert.equal(third.dirs.get('l1')!.bytes.apparent, 9000);
      assert.equal(entryAt(third.indexes.get('l1')!, 'a'), undefined);
      // The same directory, but the store's record of the layer moved.
      const fourth = await walkDirs([{ ...d, record: 'size=9000' }], problems, cache, { opaqueFromRecords: false });
      assert.deepEqual([fourth.layersWalked, fourth.layersReused], [1, 0]);
      assert.deepEqual(problems, []);
    });
  });

  describe('on disk', () => {
    let root: string;
    beforeEach(async () => {
      root = await mkdtemp(join(tmpdir(), 'ldu-cachefile-'));
    });
    afterEach(() => rm(root, { recursive: true, force: true }));

    it('saves atomically (no temporary file left) and loads what it saved; another version is dropped quietly', async () => {
      const file = join(root, 'c', cacheFileName('/var/lib/docker', undefined));
      await saveLayerCache(file, literals(), '0.1.0', { create: true, waste: WASTE });
      assert.deepEqual(await readdir(join(root, 'c')), [cacheFileName('/var/lib/docker', undefined)]);
      const r = await loadLayerCache(file, '0.1.0');
      assert.equal(r.state, 'loaded');
      assertSameCache(literals(), r.cache);
      assert.equal(r.signature, cacheSignature(literals(), WASTE));
      const other = await loadLayerCache(file, '0.2.0');
      assert.deepEqual([other.state, other.cache.size], ['absent', 0]);
      assert.deepEqual((await loadLayerCache(join(root, 'none'), '0.1.0')).state, 'absent');
    });

    it('one file per docker and containerd root', () => {
      assert.notEqual(cacheFileName('/var/lib/docker', undefined), cacheFileName('/srv/docker', undefined));
      assert.notEqual(cacheFileName('/var/lib/docker', undefined), cacheFileName('/var/lib/docker', '/var/lib/containerd'));
      assert.match(cacheFileName('/var/lib/docker', undefined), /^layers-[0-9a-f]{16}\.cache$/);
    });

    it('a damaged file is one warning, an empty cache, and is written anew at the next save', async () => {
      const setup = { dir: root, explicit: true, dockerRoot: '/var/lib/docker' };
      const file = join(root, cacheFileName('/var/lib/docker', undefined));
      await saveLayerCache(file, literals(), '0.1.0');
      const bytes = await readFile(file);
      bytes[bytes.length - 3]! ^= 0xff;
      await writeFile(file, bytes);
      const warnings: string[] = [];
      const p = await PersistedLayerCache.open(setup, '0.1.0', (m) => warnings.push(m));
      assert.equal(p.size, 0);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, /layer cache .* ignored \(checksum mismatch\)/);
      // Even a scan that keeps nothing rewrites it.
      assert.equal(await p.saveIfChanged(), 'saved');
      assert.equal((await loadLayerCache(file, '0.1.0')).state, 'loaded');
      for (const [k, w] of literals()) p.cache.set(k, w);
      assert.equal(await p.saveIfChanged(), 'saved');
      assert.equal(await p.saveIfChanged(), 'unchanged');
      const again = await PersistedLayerCache.open(setup, '0.1.0', (m) => warnings.push(m));
      assert.equal(again.size, 3);
      assert.equal(await again.saveIfChanged(), 'unchanged', 'nothing changed since it was read');
      assert.equal(warnings.length, 1);
    });

    it('the default directory missing: nothing written, nothing said; an explicit one is made', async () => {
      const warnings: string[] = [];
      const quiet = await PersistedLayerCache.open({ dir: join(root, 'absent'), explicit: false, dockerRoot: '/d' }, '1', (m) => warnings.push(m));
      quiet.cache.set('k', literals().get('sha256:aaa@dir1')!);
      assert.equal(await quiet.saveIfChanged(), 'not written');
      const made = await PersistedLayerCache.open({ dir: join(root, 'made', 'here'), explicit: true, dockerRoot: '/d' }, '1', (m) => warnings.push(m));
      made.cache.set('k', literals().get('sha256:aaa@dir1')!);
      assert.equal(await made.saveIfChanged(), 'saved');
      assert.deepEqual(warnings, []);
    });

    it('refuses a directory under the docker or containerd root, symlinks resolved', async () => {
      const docker = join(root, 'docker');
      await mkdir(join(docker, 'image'), { recursive: true });
      await symlink(join(docker, 'image'), join(root, 'sneaky'));
      const roots = [{ name: 'docker root', path: docker }, { name: 'containerd root', path: join(root, 'containerd') }];
      assert.match((await refuseCacheDir(join(docker, 'cache'), roots))!, /under the docker root .*: layerdu never writes there/);
      assert.match((await refuseCacheDir(docker, roots))!, /under the docker root/);
      assert.match((await refuseCacheDir(join(root, 'sneaky', 'x', 'y'), roots))!, /under the docker root/);
      assert.match((await refuseCacheDir(join(root, 'containerd', 'io'), roots))!, /under the containerd root/);
      assert.equal(await refuseCacheDir(join(root, 'docker-cache'), roots), null, 'a sibling whose name starts the same');
      assert.equal(await refuseCacheDir(join(root, 'state'), roots), null);
    });

    it("defaults to systemd's StateDirectory, else /var/lib/layerdu", () => {
      assert.equal(defaultCacheDir({ STATE_DIRECTORY: '/var/lib/layerdu:/var/lib/other' }), '/var/lib/layerdu');
      assert.equal(defaultCacheDir({ STATE_DIRECTORY: '/var/lib/private/x' }), '/var/lib/private/x');
      assert.equal(defaultCacheDir({}), '/var/lib/layerdu');
    });
  });
});
