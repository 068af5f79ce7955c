// The two walkers against each other on the fixture host's real layers: GNU find (the default)
// and the Node walker (LAYERDU_WALKER=node, what a host without GNU find gets). Same report, and
// the same index of every layer, path by path.
import assert from 'node:assert/strict';
import { lstat, readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { walkWithFind } from '../../collectors/walk/find-walk.js';
import { KIND } from '../../collectors/lib/path-index.js';
import { walkTreeSync } from '../../collectors/walk/node-walk.js';
import type { Report } from '../../agent/model/report.js';
import { getFixture, type Fixture } from '../support/fixture-host.js';
import { byPath } from '../support/index-compare.js';
import { runReport } from '../support/oracles.js';

const NO_API = 'unix:///nonexistent.sock';

/** The inodes under `root` (none when it is missing) that are no directory and have more than one link. */
async function linkedInodes(root: string): Promise<Set<number>> {
  const out = new Set<number>();
  const visit = async (p: string): Promise<void> => {
    const st = await lstat(p);
    if (st.isDirectory()) {
      for (const n of await readdir(p)) await visit(path.join(p, n));
    } else if (st.nlink > 1) {
      out.add(st.ino);
    }
  };
  const there = await lstat(root).then(() => true, (e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? false : Promise.reject(e)));
  if (there) await visit(root);
  return out;
}

describe('the find walker and the Node walker agree', function () {
  let fx: Fixture;
  before(async function () {
    fx = await getFixture();
  });

  it('on the whole report of the fixture host', async function () {
    const run = async (env: NodeJS.ProcessEnv) => {
      const r = await runReport<Report>(['--format', 'json', '--docker-root', fx.root, '--docker-host', NO_API], { env });
      assert.equal(r.code, 0, r.stderr);
      const { scan: _scan, filesystem: _fs, ...rest } = r.json!;
      return rest;
    };
    const [viaFind, viaNode] = await Promise.all([run({}), run({ LAYERDU_WALKER: 'node' })]);
    assert.equal(viaFind.layers.length, fx.layerdb.size, 'every layer of the fixture');
    assert.equal(viaFind.containers.length, Object.keys(fx.containers).length, 'every container of the fixture');
    assert.deepEqual(viaFind, viaNode);
  });

  it('on the index of every layer directory, path by path', async function () {
    const base = path.join(fx.root, 'overlay2');
    const dirs = (await readdir(base)).filter((d) => d !== 'l');
    const kinds = new Set<number>();
    let linked = 0;
    let linkedOnDisk = 0;
    for (const d of dirs) {
      const root = path.join(base, d, 'diff');
      const viaFind = await walkWithFind(root, { index: true });
      const viaNode = walkTreeSync(root, { index: true });
      assert.deepEqual(viaFind.problems, viaNode.problems, d);
      assert.deepEqual(viaFind.size, viaNode.size, d);
      const [f, n] = [byPath(viaFind.index!), byPath(viaNode.index!)];
      assert.deepEqual(f.paths, n.paths, d);
      assert.deepEqual(f.inodes, n.inodes, d);
      for (const k of viaFind.index!.kinds) kinds.add(k);
      linked += f.inodes.size;
      linkedOnDisk += (await linkedInodes(root)).size;
    }
    // Files, directories, opaque directories, whiteouts, symlinks and hardlinked inodes were all compared.
    assert.deepEqual([...kinds].sort(), [KIND.file, KIND.dir, KIND.opaque, KIND.whiteout, KIND.other].sort());
    // Every hardlinked inode of every layer (the fixture's hardlink image has one at least) was compared.
    assert.equal(linked, linkedOnDisk, 'hardlinked inodes compared vs found by lstat');
    assert.ok(linked > 0, 'a hardlinked inode was compared');
  });
});
