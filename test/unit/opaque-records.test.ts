import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { walkDirs } from '../../agent/scan/walk-dirs.js';
import { parseSysAdmin } from '../../collectors/host/capabilities.js';
import type { Problem } from '../../collectors/lib/facts.js';
import { entryAt, markOpaque } from '../../collectors/lib/path-index.js';
import { indexFromEntries } from '../../collectors/lib/path-index-builder.js';
import type { StoreDir } from '../../collectors/stores/store.js';
import { opaqueDirOf, readOpaqueDirs, tarSplitName } from '../../collectors/walk/opaque-records.js';

/** A tar of these entries (directories end with '/'), as a layer blob holds them. */
async function tarOf(names: string[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const n of names) pack.entry(n.endsWith('/') ? { name: n, type: 'directory' } : { name: n, size: 0 }, '');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('opaque directories from the stores\' records (no CAP_SYS_ADMIN, no trusted.* xattrs)', () => {
  it('reads CAP_SYS_ADMIN (bit 21) from a status text\'s effective set', () => {
    assert.equal(parseSysAdmin('Name:\tx\nCapEff:\t000001ffffffffff\n'), true, 'root');
    assert.equal(parseSysAdmin('CapEff:\t0000000000000004\n'), false, 'CAP_DAC_READ_SEARCH alone');
    assert.equal(parseSysAdmin('CapEff:\t0000000000200000\n'), true, 'CAP_SYS_ADMIN alone');
    assert.equal(parseSysAdmin('Name:\tx\n'), null);
  });

  it('knows an opaque marker and its directory; tar-split lines by their file entries', () => {
    assert.equal(opaqueDirOf('d/.wh..wh..opq'), 'd');
    assert.equal(opaqueDirOf('./usr/lib/.wh..wh..opq'), 'usr/lib');
    assert.equal(opaqueDirOf('.wh..wh..opq'), '', 'the root itself');
    assert.equal(opaqueDirOf('d/.wh.file'), null, 'a whiteout of one file');
    assert.equal(opaqueDirOf('d/x.wh..wh..opq'), null);
    assert.equal(tarSplitName('{"type":1,"name":"d/.wh..wh..opq","size":0,"position":3}'), 'd/.wh..wh..opq');
    assert.equal(tarSplitName('{"type":2,"payload":"AAAA"}'), null);
    assert.equal(tarSplitName(`{"type":1,"name_raw":"${Buffer.from('caf\u00e9/.wh..wh..opq').toString('base64')}"}`), 'caf\u00e9/.wh..wh..opq');
  });

  it('marks only directories the index holds, and names the others', () => {
    const index = indexFromEntries([
      ['d', { kind: 'dir', disk: 4096, apparent: 0 }],
      ['d/f', { kind: 'file', disk: 4096, apparent: 5 }],
    ]);
    assert.deepEqual(markOpaque(index, ['d', 'd/f', 'gone']), ['d/f', 'gone']);
    assert.equal(entryAt(index, 'd')?.kind, 'opaque');
    assert.equal(entryAt(index, 'd/f')?.kind, 'file');
  });

  describe('walkDirs with opaqueFromRecords', () => {
    let root = '';
    before(async () => {
      root = await mkdtemp(join(tmpdir(), 'ldu-opaque-'));
      for (const layer of ['split', 'blob', 'plain', 'none', 'broken']) {
        await mkdir(join(root, layer, 'd', 'sub'), { recursive: true });
        await writeFile(join(root, layer, 'd', 'keep'), 'keep\n');
      }
      const split = ['{"type":2,"payload":"AA=="}', '{"type":1,"name":"./d/","size":0}', '{"type":1,"name":"./d/.wh..wh..opq","size":0}', '{"type":1,"name":"./d/keep","size":5}'];
      await writeFile(join(root, 'split.json.gz'), gzipSync(`${split.join('\n')}\n`));
      await writeFile(join(root, 'blob.tar.gz'), gzipSync(await tarOf(['d/', 'd/.wh..wh..opq', 'd/keep', 'd/sub/'])));
      await writeFile(join(root, 'plain.tar'), await tarOf(['d/', 'd/sub/', 'd/sub/.wh..wh..opq', 'gone/.wh..wh..opq']));
      await writeFile(join(root, 'broken.tar.gz'), gzipSync(Buffer.from('not a tar at all')).subarray(0, 10));
    });
    after(() => rm(root, { recursive: true, force: true }));

    const dir = (id: string, opaqueRecord?: StoreDir['opaqueRecord']): StoreDir => ({
      id, role: 'image-layer', path: join(root, id), weight: 1, cacheKey: null, index: true, opaque: true, ...(opaqueRecord ? { opaqueRecord } : {}),
    });

    it('takes them from a tar-split file and from a layer tar, plain or gzipped; names a record that disagrees, a broken one, and a layer with none', async () => {
      const problems: Problem[] = [];
      const walked = await walkDirs([
        dir('split', { format: 'tar-split', file: join(root, 'split.json.gz') }),
        dir('blob', { format: 'tar', file: join(root, 'blob.tar.gz'), compression: 'gzip' }),
        dir('plain', { format: 'tar', file: join(root, 'plain.tar'), compression: 'none' }),
        dir('none'),
        dir('broken', { format: 'tar', file: join(root, 'broken.tar.gz'), compression: 'gzip' }),
      ], problems, undefined, { opaqueFromRecords: true });
      const kind = (id: string, p: string) => entryAt(walked.indexes.get(id)!, p)?.kind;
      assert.deepEqual(['split', 'blob', 'plain', 'none', 'broken'].map((id) => [kind(id, 'd'), kind(id, 'd/sub')]), [
        ['opaque', 'dir'], ['opaque', 'dir'], ['dir', 'opaque'], ['dir', 'dir'], ['dir', 'dir'],
      ]);
      const said = problems.map((p) => `${p.path} ${p.message}`).sort();
      assert.equal(said.length, 3, said.join('\n'));
      assert.match(said.find((s) => s.includes('plain.tar'))!, /names 1 opaque directory the layer does not hold \(first: "gone"\)/);
      assert.match(said.find((s) => s.includes('broken.tar.gz'))!, /opaque directories unreadable/);
      assert.match(said.find((s) => s.includes(join(root, 'none')))!, /needs CAP_SYS_ADMIN/);
    });

    it('reads no record when the xattrs can be read', async () => {
      const problems: Problem[] = [];
      const walked = await walkDirs([dir('split', { format: 'tar-split', file: join(root, 'split.json.gz') }), dir('none')], problems, undefined, { opaqueFromRecords: false });
      assert.equal(entryAt(walked.indexes.get('split')!, 'd')?.kind, 'dir', 'no xattr on a tmp dir: not opaque');
      assert.deepEqual(problems, []);
      assert.deepEqual(await readOpaqueDirs({ format: 'tar-split', file: join(root, 'split.json.gz') }), ['d']);
    });
  });
});
