import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, truncateSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setAttributeSync } from '@napi-rs/xattr';
import type { Problem } from '../../collectors/lib/facts.js';
import { entryAt } from '../../collectors/lib/path-index.js';
import { gnuFindAvailable } from '../../collectors/walk/find-walk.js';
import { walkTree } from '../../collectors/walk/walk-tree.js';
import { nodeWalkFs, type WalkFs } from '../../collectors/walk/node-walk.js';

const MiB = 1024 * 1024;

function du(dir: string): number {
  const out = execFileSync('du', ['-sB1', dir], { encoding: 'utf8' });
  return Number(out.split(/\s/)[0]);
}

/** The contract's apparent rule, computed independently: st_size of non-directories with size > 0, each inode once. */
function apparentOf(dir: string, skip: Set<string> = new Set()): number {
  let sum = 0;
  const seen = new Set<number>();
  const visit = (p: string) => {
    if (skip.has(p)) return;
    const st = lstatSync(p);
    if (st.isDirectory()) {
      for (const n of readdirSync(p)) visit(join(p, n));
      return;
    }
    if (seen.has(st.ino)) return;
    seen.add(st.ino);
    if (st.size > 0) sum += st.size;
  };
  visit(dir);
  return sum;
}

const enoent = (p: string) => Object.assign(new Error(`ENOENT: no such file or directory, lstat '${p}'`), { code: 'ENOENT' });
const eacces = (p: string) => Object.assign(new Error(`EACCES: permission denied, scandir '${p}'`), { code: 'EACCES' });

// Every walk on a real tree runs through both walkers: GNU find (the default) and the Node walker
// in walker processes (LAYERDU_WALKER=node, as on hosts without GNU find).
describe('walkTree', () => {
  let base: string;
  /** A fresh directory for each walker's trees. */
  let tmp: string;
  before(() => {
    base = mkdtempSync(join(tmpdir(), 'layerdu-walk-'));
  });
  after(() => {
    rmSync(base, { recursive: true, force: true });
  });

  /** A small tree: files of several sizes, an empty file, a sparse file, a symlink, nested dirs. */
  function makeTree(name: string): string {
    const root = join(tmp, name);
    mkdirSync(join(root, 'sub', 'deep'), { recursive: true });
    mkdirSync(join(root, 'empty-dir'));
    writeFileSync(join(root, 'a.txt'), Buffer.alloc(5000, 0x61));
    writeFileSync(join(root, 'empty'), '');
    writeFileSync(join(root, 'sub', 'b.bin'), Buffer.alloc(70_000, 0x62));
    writeFileSync(join(root, 'sub', 'deep', 'c'), 'c');
    writeFileSync(join(root, 'sparse'), '');
    truncateSync(join(root, 'sparse'), 10 * MiB);
    symlinkSync('a.txt', join(root, 'link'));
    return root;
  }


  for (const walker of ['find', 'node'] as const) {
    describe(`with the ${walker} walker`, () => {
      const before_ = process.env.LAYERDU_WALKER;
      before(async () => {
        if (walker === 'find') assert.ok(await gnuFindAvailable(), 'GNU find is on this machine (findutils)');
        tmp = mkdtempSync(join(base, `${walker}-`));
        if (walker === 'node') process.env.LAYERDU_WALKER = 'node';
        else delete process.env.LAYERDU_WALKER;
      });
      after(() => {
        if (before_ === undefined) delete process.env.LAYERDU_WALKER;
        else process.env.LAYERDU_WALKER = before_;
      });

      it('disk bytes equal `du -sB1` and apparent bytes follow Docker’s rule', async () => {
        const root = makeTree('plain');
        const errors: Problem[] = [];
        const { size, index } = await walkTree(root, { problems: errors });
        assert.deepEqual(errors, []);
        assert.equal(index, null);
        assert.equal(size.disk, du(root));
        assert.equal(size.apparent, apparentOf(root));
        assert.equal(size.apparent, 5000 + 70_000 + 1 + 10 * MiB + 'a.txt'.length);
        assert.equal(size.entries, 10); // root, sub, sub/deep, empty-dir, a.txt, empty, b.bin, c, sparse, link
      });

      it('indexes every path relative to the root, with its kind and bytes', async () => {
        const root = makeTree('indexed');
        const errors: Problem[] = [];
        const { size, index } = await walkTree(root, { problems: errors, index: true });
        assert.deepEqual(errors, []);
        assert.ok(index);
        const paths = ['a.txt', 'empty', 'empty-dir', 'link', 'sparse', 'sub', 'sub/b.bin', 'sub/deep', 'sub/deep/c'];
        assert.equal(index.count, paths.length);
        for (const p of paths) assert.ok(entryAt(index, p), p);
        assert.deepEqual(entryAt(index!, 'sub/b.bin'), { kind: 'file', disk: lstatSync(join(root, 'sub', 'b.bin')).blocks * 512, apparent: 70_000 });
        assert.equal(entryAt(index!, 'sub')!.kind, 'dir');
        assert.equal(entryAt(index!, 'sub')!.apparent, 0);
        assert.equal(entryAt(index!, 'link')!.kind, 'other');
        assert.equal(entryAt(index!, 'sparse')!.apparent, 10 * MiB);
        assert.equal(entryAt(index!, 'a.txt')!.ino, undefined);
        // The root itself is counted in the size but is not a path of the layer.
        const sumDisk = index.disk.reduce((s, d) => s + d, 0);
        assert.equal(size.disk, sumDisk + lstatSync(root).blocks * 512);
      });

      it('counts a hardlinked 1 MiB file once on both bases; the second path has ino and zero bytes', async () => {
        const root = join(tmp, 'hardlink');
        mkdirSync(root);
        writeFileSync(join(root, 'a'), Buffer.alloc(MiB, 1));
        linkSync(join(root, 'a'), join(root, 'b'));
        const errors: Problem[] = [];
        const { size, index } = await walkTree(root, { problems: errors, index: true });
        assert.deepEqual(errors, []);
        assert.equal(size.apparent, MiB);
        assert.equal(size.disk, du(root));
        assert.equal(size.entries, 2); // the root and one inode
        const st = lstatSync(join(root, 'a'));
        const entries = ['a', 'b'].map((n) => entryAt(index!, n)!);
        for (const e of entries) assert.equal(e.ino, st.ino);
        // Which path is met first depends on lstat completion order; exactly one carries the bytes.
        const sorted = entries.map((e) => ({ disk: e.disk, apparent: e.apparent })).sort((x, y) => x.apparent - y.apparent);
        assert.deepEqual(sorted, [
          { disk: 0, apparent: 0 },
          { disk: st.blocks * 512, apparent: MiB },
        ]);
      });

      it('a 0/0 character device is a whiteout', async () => {
        const root = join(tmp, 'whiteout');
        mkdirSync(root);
        execFileSync('mknod', [join(root, 'gone'), 'c', '0', '0']);
        execFileSync('mknod', [join(root, 'null'), 'c', '1', '3']);
        const { index } = await walkTree(root, { problems: [], index: true });
        assert.deepEqual(entryAt(index!, 'gone'), { kind: 'whiteout', disk: 0, apparent: 0 });
        assert.equal(entryAt(index!, 'null')!.kind, 'other');
      });

      // overlayfs (Linux >= 5.8) makes an upper dir's whiteouts hardlinks of one shared 0/0 inode.
      it('every path of a hardlinked whiteout is a whiteout (overlayfs shares whiteout inodes)', async () => {
        const root = join(tmp, 'shared-whiteout');
        mkdirSync(root);
        execFileSync('mknod', [join(root, 'w1'), 'c', '0', '0']);
        linkSync(join(root, 'w1'), join(root, 'w2'));
        const { index } = await walkTree(root, { problems: [], index: true });
        assert.equal(entryAt(index!, 'w1')!.kind, 'whiteout');
        assert.equal(entryAt(index!, 'w2')!.kind, 'whiteout');
      });

      it('a directory with trusted.overlay.opaque=y (or user.overlay.opaque=y) is opaque', async () => {
        const root = join(tmp, 'opaque');
        mkdirSync(join(root, 'o', 'inner'), { recursive: true });
        mkdirSync(join(root, 'u'));
        mkdirSync(join(root, 'plain'));
        mkdirSync(join(root, 'no'));
        setAttributeSync(join(root, 'o'), 'trusted.overlay.opaque', 'y');
        setAttributeSync(join(root, 'u'), 'user.overlay.opaque', 'y');
        setAttributeSync(join(root, 'no'), 'trusted.overlay.opaque', 'n');
        const { index } = await walkTree(root, { problems: [], index: true });
        assert.equal(entryAt(index!, 'o')!.kind, 'opaque');
        assert.equal(entryAt(index!, 'u')!.kind, 'opaque');
        assert.equal(entryAt(index!, 'o/inner')!.kind, 'dir');
        assert.equal(entryAt(index!, 'plain')!.kind, 'dir');
        assert.equal(entryAt(index!, 'no')!.kind, 'dir');
      });


      it('leaves out the paths to skip, with everything under them, at any depth', async () => {
        const root = makeTree('skipping');
        mkdirSync(join(root, 'sub', 'big'));
        writeFileSync(join(root, 'sub', 'big', 'blob'), Buffer.alloc(300_000, 7));
        writeFileSync(join(root, 'log.txt'), Buffer.alloc(9000, 1));
        const skip = [join(root, 'sub', 'big'), join(root, 'log.txt'), join(root, 'not-there')];
        const errors: Problem[] = [];
        const { size } = await walkTree(root, { problems: errors, skip });
        assert.deepEqual(errors, []);
        assert.equal(size.disk, du(root) - du(join(root, 'sub', 'big')) - du(join(root, 'log.txt')));
        assert.equal(size.apparent, apparentOf(root, new Set(skip)));
        assert.equal(size.entries, 10);
      });

      it('a missing root is one problem and zero bytes', async () => {
        const root = join(tmp, 'does-not-exist');
        const errors: Problem[] = [];
        const { size, index } = await walkTree(root, { problems: errors, index: true });
        assert.deepEqual(size, { disk: 0, apparent: 0, entries: 0 });
        assert.equal(index!.count, 0);
        assert.deepEqual(errors, [{ path: root, message: 'vanished during the walk' }]);
      });

      it('a root that is a file counts that file', async () => {
        const root = join(tmp, 'single');
        writeFileSync(root, Buffer.alloc(3000, 1));
        const errors: Problem[] = [];
        const { size } = await walkTree(root, { problems: errors });
        assert.deepEqual(errors, []);
        assert.deepEqual(size, { disk: du(root), apparent: 3000, entries: 1 });
      });
    });
  }

  // Races staged through WalkFs: the Node walker's own checks.
  describe('with the Node walker and staged races', () => {
    before(() => {
      tmp = mkdtempSync(join(base, 'staged-'));
    });
    it('a file that vanishes between readdir and lstat is one problem; the rest is counted', async () => {
      const root = makeTree('vanish');
      const gone = `${root}/sub/b.bin`;
      const fs: WalkFs = {
        ...nodeWalkFs,
        lstat: (p) => {
          if (p === gone) throw enoent(p);
          return nodeWalkFs.lstat(p);
        },
      };
      const goneStat = lstatSync(gone);
      const errors: Problem[] = [];
      const { size } = await walkTree(root, { problems: errors, fs, index: true });
      assert.deepEqual(errors, [{ path: gone, message: 'vanished during the walk' }]);
      assert.equal(size.disk, du(root) - goneStat.blocks * 512);
      assert.equal(size.apparent, apparentOf(root, new Set([gone])));
      assert.equal(size.entries, 9);
    });

    it('an unreadable subdirectory is one problem; the directory itself and the rest are counted', async () => {
      const root = makeTree('locked');
      const locked = `${root}/sub/deep`;
      const c = lstatSync(join(locked, 'c'));
      const fs: WalkFs = {
        ...nodeWalkFs,
        readdir: (p) => {
          if (p === locked) throw eacces(p);
          return nodeWalkFs.readdir(p);
        },
      };
      const errors: Problem[] = [];
      const { size, index } = await walkTree(root, { problems: errors, fs, index: true });
      assert.deepEqual(errors, [{ path: locked, message: 'permission denied' }]);
      assert.equal(size.disk, du(root) - c.blocks * 512);
      assert.equal(size.apparent, apparentOf(root) - 1);
      assert.equal(size.entries, 9);
      assert.equal(entryAt(index!, 'sub/deep')!.kind, 'dir');
      assert.equal(entryAt(index!, 'sub/deep/c'), undefined);
    });

  });
});
