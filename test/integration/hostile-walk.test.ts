// Hostile trees through every walker (issue 14): GNU find (the default), the Node walker in walker
// processes (LAYERDU_WALKER=node, what busybox hosts get; it enters each directory) and the Node
// walker on this thread (small trees and the bookkeeping around skipped paths; full paths). Names
// that are not UTF-8 or hold newlines, a path past PATH_MAX, a 1 TiB sparse file, FIFOs and device
// nodes, hundreds of hardlinks: every sum equals `du -sB1 -x`, the three agree, and the index holds
// every path by its bytes. Then waste and copy-up on layers whose names differ only in bytes that
// do not decode, and a tree changed while it is walked.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { linkSync, lstatSync, mkdirSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync, writeSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setAttributeSync } from '@napi-rs/xattr';
import { computeCopiedUp, computeWaste } from '../../agent/model/layer-analysis.js';
import type { Problem } from '../../collectors/lib/facts.js';
import { entryAt, hashPath, KIND, type PathIndex } from '../../collectors/lib/path-index.js';
import { gnuFindAvailable } from '../../collectors/walk/find-walk.js';
import { nodeWalkFs, walkYieldingInto, type WalkFs } from '../../collectors/walk/node-walk.js';
import { TreeTally, VANISHED } from '../../collectors/walk/tally.js';
import { walkTree } from '../../collectors/walk/walk-tree.js';
import { byPath } from '../support/index-compare.js';
import { withWalker } from '../support/walker-env.js';

const MiB = 1024 * 1024;
const TiB = 2 ** 40;
const HARDLINKS = 600;
/** Levels of 250-byte names below the root: the bottom lies past 20 × 251 bytes, over PATH_MAX (4096). */
const DEEP_LEVELS = 20;

/** A name from text and raw bytes: `raw('f', [0xff])` is the two bytes 66 ff, no UTF-8. */
const raw = (...parts: Array<string | number[]>): Buffer => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));
const F_FF = raw('f', [0xff]);
const F_FE = raw('f', [0xfe]);

function du(dir: string): number {
  return Number(execFileSync('du', ['-sB1', '-x', dir], { encoding: 'utf8' }).split(/\s/)[0]);
}

interface OracleEntry {
  type: string;
  ino: number;
  nlink: number;
  disk: number;
  apparent: number;
}

/**
 * What GNU find sees under `root`, by path (relative, as bytes): an oracle independent of both
 * walkers' readers (find prints each path whole; the walkers hash names one by one).
 */
function oracle(root: string): Map<number, OracleEntry & { path: Buffer }> {
  const out = execFileSync('find', [root, '-xdev', '-mindepth', '1', '-printf', '%y %i %n %b %s %P\\0'], { maxBuffer: 1 << 28, env: { ...process.env, LC_ALL: 'C' } });
  const m = new Map<number, OracleEntry & { path: Buffer }>();
  let start = 0;
  for (let end = out.indexOf(0); end >= 0; start = end + 1, end = out.indexOf(0, start)) {
    const rec = out.subarray(start, end);
    let at = 0;
    const field = () => {
      const sp = rec.indexOf(0x20, at);
      const v = rec.toString('latin1', at, sp);
      at = sp + 1;
      return v;
    };
    const [type, ino, nlink, blocks, size] = [field(), Number(field()), Number(field()), Number(field()), Number(field())];
    const path = Buffer.from(rec.subarray(at));
    m.set(hashPath(path), { type, ino, nlink, disk: blocks * 512, apparent: type === 'd' ? 0 : size, path });
  }
  return m;
}

/** Docker's apparent rule and the inode count, from the oracle: st_size of non-directories, each inode once. */
function oracleSums(o: Map<number, OracleEntry>): { apparent: number; inodes: number } {
  const seen = new Set<number>();
  let apparent = 0;
  for (const e of o.values()) {
    if (seen.has(e.ino)) continue;
    seen.add(e.ino);
    apparent += e.apparent;
  }
  return { apparent, inodes: seen.size + 1 }; // and the root
}

/** Runs `fn` with this process in `dir` (relative names reach past PATH_MAX), and comes back. */
function inDir<T>(dir: string, fn: () => T): T {
  const back = process.cwd();
  process.chdir(dir);
  try {
    return fn();
  } finally {
    process.chdir(back);
  }
}

/** chdir to a name relative to here, given as bytes (process.chdir takes text): through its fd. */
function chdirRaw(name: Buffer): void {
  const fd = openSync(name, 'r');
  try {
    process.chdir(`/proc/self/fd/${fd}`);
  } finally {
    closeSync(fd);
  }
}

function mknod(name: Buffer, type: 'c' | 'b', major: number, minor: number): void {
  // mknod takes its name as text: make it under an ASCII name, then rename it to the bytes.
  execFileSync('mknod', ['.tmp-node', type, String(major), String(minor)]);
  renameSync('.tmp-node', name);
}

function sparse(path: string | Buffer, size: number, data?: { at: number; bytes: number }): void {
  writeFileSync(path, '');
  truncateSync(path, size);
  if (data) {
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(data.bytes, 7), 0, data.bytes, data.at);
    closeSync(fd);
  }
}

/** The hostile tree. Returns the relative paths (bytes) the checks look up. */
function makeHostileTree(root: string): Record<string, Buffer> {
  mkdirSync(root);
  const deepParts: Buffer[] = [];
  inDir(root, () => {
    writeFileSync('plain.txt', Buffer.alloc(5000, 0x61));
    // Not UTF-8: both decode to "f\uFFFD"; kept apart they are two files of different sizes.
    writeFileSync(F_FF, Buffer.alloc(1000, 1));
    writeFileSync(F_FE, Buffer.alloc(3000, 2));
    writeFileSync(raw([0xc3, 0x28]), Buffer.alloc(17, 3)); // a bad two-byte sequence
    writeFileSync('café', Buffer.alloc(20, 4)); // UTF-8, not ASCII
    mkdirSync(raw('d', [0x80]));
    writeFileSync(raw('d', [0x80], '/inner'), Buffer.alloc(10, 5));
    writeFileSync(Buffer.concat([raw('d', [0x80], '/'), F_FF]), Buffer.alloc(7, 6));
    // Newlines (find's records end in NUL, not newline).
    writeFileSync('a\nb', Buffer.alloc(11, 7));
    writeFileSync('\n', Buffer.alloc(12, 8));
    mkdirSync('x\ny');
    writeFileSync('x\ny/z\n', Buffer.alloc(13, 9));
    // 1 TiB sparse, and one with 4 KiB of data half a tebibyte in.
    sparse('sparse-1t', TiB);
    sparse('sparse-data', TiB, { at: TiB / 2, bytes: 4096 });
    // FIFOs and device nodes; a 0/0 character device is an overlay whiteout.
    execFileSync('mkfifo', ['fifo']);
    mknod(Buffer.from('null'), 'c', 1, 3);
    mknod(Buffer.from('loop'), 'b', 7, 0);
    mknod(Buffer.from('wh'), 'c', 0, 0);
    mknod(raw('wh', [0xff]), 'c', 0, 0);
    // Hundreds of hardlinks of one 1 MiB file, over three directories, one name not UTF-8.
    mkdirSync('links/a', { recursive: true });
    mkdirSync('links/b');
    writeFileSync('links/orig', Buffer.alloc(MiB, 0x6c));
    for (let i = 0; i < HARDLINKS; i++) linkSync('links/orig', `links/${i % 2 ? 'a' : 'b'}/l${i}`);
    linkSync('links/orig', raw('links/b/', [0xff], '-link'));
    // Past PATH_MAX: 20 levels of 250-byte names (one of them not UTF-8), entered one at a time.
    for (let i = 0; i < DEEP_LEVELS; i++) {
      const name = i === 10 ? Buffer.concat([Buffer.alloc(249, 0x44), Buffer.from([0xff])]) : Buffer.from(`${String(i).padStart(2, '0')}${'D'.repeat(248)}`);
      deepParts.push(name);
      mkdirSync(name);
      chdirRaw(name);
    }
    writeFileSync('deep-file', Buffer.alloc(100_000, 0x64));
    writeFileSync(F_FF, Buffer.alloc(5, 0x65));
    mkdirSync('opq');
    writeFileSync('opq/x', Buffer.alloc(300, 0x66));
    setAttributeSync('opq', 'trusted.overlay.opaque', 'y');
    mkdirSync(raw('opq', [0xfe])); // a plain directory, its name no UTF-8
    mknod(Buffer.from('gone'), 'c', 0, 0);
    sparse('deep-sparse', TiB);
  });
  // The deep hardlink: made from the root by a relative path that is itself past PATH_MAX would
  // fail; link from inside instead (the bottom directory, found again by relative chdirs).
  inDir(root, () => {
    for (const p of deepParts) chdirRaw(p);
    const up = '../'.repeat(DEEP_LEVELS);
    linkSync(`${up}links/orig`, 'link-to-orig');
  });
  const deep = Buffer.concat(deepParts.flatMap((p) => [p, Buffer.from('/')]));
  return {
    deep,
    deepFile: Buffer.concat([deep, Buffer.from('deep-file')]),
    deepFF: Buffer.concat([deep, F_FF]),
    deepOpq: Buffer.concat([deep, Buffer.from('opq')]),
    deepOpqFE: Buffer.concat([deep, raw('opq', [0xfe])]),
    deepGone: Buffer.concat([deep, Buffer.from('gone')]),
    deepLink: Buffer.concat([deep, Buffer.from('link-to-orig')]),
  };
}

type Mode = 'find' | 'node processes' | 'node inline';
const MODES: Mode[] = ['find', 'node processes', 'node inline'];

/** One walk of `root` by the walker `mode` names, indexed. */
async function walkWith(mode: Mode, root: string): Promise<{ size: { disk: number; apparent: number; entries: number }; index: PathIndex; problems: Problem[] }> {
  if (mode === 'node inline') {
    const o = await walkYieldingInto(root, { index: true }, new TreeTally(true));
    return { size: o.size, index: o.index!, problems: o.problems };
  }
  return withWalker(mode === 'node processes' ? 'node' : 'find', async () => {
    const problems: Problem[] = [];
    const { size, index } = await walkTree(root, { problems, index: true });
    return { size, index: index!, problems };
  });
}

describe('hostile trees, through every walker', function () {
  let base: string;
  before(async () => {
    assert.ok(await gnuFindAvailable(), 'GNU find is on this machine (findutils)');
    base = mkdtempSync(join(tmpdir(), 'layerdu-hostile-'));
  });
  after(() => {
    // GNU rm walks past PATH_MAX; Node's rmSync names whole paths and cannot.
    if (base) execFileSync('rm', ['-rf', base]);
  });

  describe('a tree of every hostile case', () => {
    let root: string;
    let at: Record<string, Buffer>;
    let expected: ReturnType<typeof oracle>;
    const walks = new Map<Mode, Awaited<ReturnType<typeof walkWith>>>();
    before(async () => {
      root = join(base, 'tree');
      at = makeHostileTree(root);
      expected = oracle(root);
      for (const mode of MODES) walks.set(mode, await walkWith(mode, root));
    });

    it('the tree is what it should be (the deep path is past PATH_MAX, the oracle sees it all)', () => {
      assert.ok(at.deepFile!.length > 4096, `deepest path ${at.deepFile!.length} bytes`);
      assert.ok(expected.has(hashPath(at.deepFile!)));
      assert.equal(expected.get(hashPath(F_FF))!.apparent, 1000);
      assert.equal(expected.get(hashPath('links/orig'))!.nlink, HARDLINKS + 3);
    });

    for (const mode of MODES) {
      it(`${mode}: no problem; disk bytes equal du -sB1 -x, apparent and entries the oracle's`, () => {
        const w = walks.get(mode)!;
        assert.deepEqual(w.problems, []);
        const sums = oracleSums(expected);
        const measured = { disk: w.size.disk, apparent: w.size.apparent, entries: w.size.entries };
        process.stdout.write(`      ${mode}: disk ${measured.disk} (du ${du(root)}), apparent ${measured.apparent} (oracle ${sums.apparent}), entries ${measured.entries} (inodes ${sums.inodes}), paths ${w.index.count}\n`);
        assert.deepEqual(measured, { disk: du(root), apparent: sums.apparent, entries: sums.inodes });
      });

      it(`${mode}: the index holds every path by its bytes, none collapsed, kinds and bytes right`, () => {
        const ix = walks.get(mode)!.index;
        assert.equal(ix.count, expected.size);
        assert.equal(new Set(ix.hashes).size, ix.count, 'no two paths share a hash');
        for (const [h, e] of expected) {
          const i = ix.hashes.indexOf(h);
          assert.ok(i >= 0, `path ${JSON.stringify(e.path.toString('latin1'))} indexed`);
          if (e.nlink === 1) assert.deepEqual([ix.disk[i], ix.apparent[i]], [e.disk, e.apparent], e.path.toString('latin1'));
        }
        const entry = (p: string | Buffer) => entryAt(ix, p);
        assert.equal(entry(F_FF)!.apparent, 1000);
        assert.equal(entry(F_FE)!.apparent, 3000);
        assert.equal(entry(Buffer.concat([raw('d', [0x80], '/'), F_FF]))!.apparent, 7);
        assert.equal(entry(F_FF.toString('utf8')), undefined, 'the decoded name is no path of the tree');
        assert.equal(entry('café')!.apparent, 20);
        assert.equal(entry('x\ny/z\n')!.apparent, 13);
        assert.deepEqual(entry('sparse-1t'), { kind: 'file', disk: 0, apparent: TiB });
        assert.deepEqual(entry('sparse-data'), { kind: 'file', disk: lstatSync(join(root, 'sparse-data')).blocks * 512, apparent: TiB });
        for (const p of ['fifo', 'null', 'loop']) assert.equal(entry(p)!.kind, 'other', p);
        assert.equal(entry('wh')!.kind, 'whiteout');
        assert.equal(entry(raw('wh', [0xff]))!.kind, 'whiteout');
        assert.equal(entry(at.deepFile!)!.apparent, 100_000);
        assert.equal(entry(at.deepFF!)!.apparent, 5);
        assert.equal(entry(at.deepOpq!)!.kind, 'opaque', 'opaque past PATH_MAX');
        assert.equal(entry(at.deepOpqFE!)!.kind, 'dir');
        assert.equal(entry(at.deepGone!)!.kind, 'whiteout', 'whiteout past PATH_MAX');
        assert.ok(entry(at.deepLink!)!.ino, 'the deep hardlink is one of the inode’s paths');
        // Every path of the linked inode is in the index, once with its bytes.
        const ino = lstatSync(join(root, 'links/orig')).ino;
        const linked = [...ix.linked].filter((_, j) => ix.linkedInos[j] === ino);
        assert.equal(linked.length, HARDLINKS + 3);
        assert.deepEqual(linked.map((i) => ix.apparent[i]!).filter((a) => a > 0), [MiB]);
      });
    }

    it('the three walkers give the same index, path by path', () => {
      const [f, ...others] = MODES.map((m) => byPath(walks.get(m)!.index));
      for (const o of others) {
        assert.deepEqual(o.paths, f!.paths);
        assert.deepEqual(o.inodes, f!.inodes);
      }
    });
  });

  describe('waste and copy-up compare names by their bytes', () => {
    // lower: f\xff (1 MiB) and f\xfe (64 KiB); upper deletes f\xfe and adds g\xff; the container
    // rewrites f\xff. Decoded, f\xff and f\xfe are one name and the figures come out wrong.
    let layers: Record<'lower' | 'upper' | 'writable', string>;
    before(() => {
      layers = { lower: join(base, 'lower'), upper: join(base, 'upper'), writable: join(base, 'writable') };
      for (const d of Object.values(layers)) mkdirSync(d);
      inDir(layers.lower, () => {
        writeFileSync(F_FF, Buffer.alloc(MiB, 1));
        writeFileSync(F_FE, Buffer.alloc(64 * 1024, 2));
        mkdirSync(raw('d', [0x80]));
        writeFileSync(raw('d', [0x80], '/keep'), Buffer.alloc(8192, 3));
      });
      inDir(layers.upper, () => {
        mknod(F_FE, 'c', 0, 0);
        writeFileSync(raw('g', [0xff]), Buffer.alloc(4096, 4));
        mkdirSync(raw('d', [0x81]));
      });
      inDir(layers.writable, () => {
        writeFileSync(F_FF, Buffer.alloc(MiB + 1, 5));
        writeFileSync(raw('new', [0xfe]), Buffer.alloc(100, 6));
      });
    });

    for (const mode of MODES) {
      it(`${mode}: waste is f\\xfe's bytes alone, copy-up f\\xff's copy alone`, async () => {
        const [lower, upper, writable] = await Promise.all([walkWith(mode, layers.lower), walkWith(mode, layers.upper), walkWith(mode, layers.writable)]);
        // What the container's first write cost: the whole copy of f\xff (overlayfs copies up whole files).
        const ff = lstatSync(Buffer.concat([Buffer.from(`${layers.writable}/`), F_FF]));
        const fe = lstatSync(Buffer.concat([Buffer.from(`${layers.lower}/`), F_FE]));
        const waste = computeWaste([lower.index, upper.index]);
        const copiedUp = computeCopiedUp(writable.index, [lower.index, upper.index]);
        process.stdout.write(`      ${mode}: waste ${waste.disk}/${waste.apparent} B, copied up ${copiedUp.disk}/${copiedUp.apparent} B\n`);
        assert.deepEqual(waste, { disk: fe.blocks * 512, apparent: 64 * 1024 });
        assert.deepEqual(copiedUp, { disk: ff.blocks * 512, apparent: MiB + 1 });
      });
    }
  });

  describe('a tree changed while it is walked', () => {
    /**
     * The rule: a walk counts each entry as one lstat saw it, at most once; an entry gone or
     * replaced between two looks is churn (VANISHED), never another error; what stood still is
     * counted exactly. So every indexed path carries the figures of the tree before the change
     * or after it, every unchanged path is there, a child is there only under its directory as
     * it was, and the sum is the index's plus the root's.
     */
    const N = 20;
    const FILES = 20;
    /** c0…c19 (20 files each, half in a subdirectory) beside `stable/` (`stable` files, made once). */
    function makeChurnTree(root: string, stable: number): void {
      if (stable > 0) {
        mkdirSync(join(root, 'stable', 'sub'), { recursive: true });
        for (let i = 0; i < stable; i++) writeFileSync(join(root, 'stable', i % 2 ? 'sub' : '', `s${i}`), Buffer.alloc(100 + i, 1));
      }
      for (let d = 0; d < N; d++) {
        mkdirSync(join(root, `c${d}`, 'in'), { recursive: true });
        for (let i = 0; i < FILES; i++) writeFileSync(join(root, `c${d}`, i % 2 ? 'in' : '', `f${i}`), Buffer.alloc(50 + i, 2));
      }
    }
    let trash = 0;
    /**
     * Even c-dirs are replaced by a file, odd ones removed with all they hold: moved out of the
     * tree in one rename (fast, so the changes land while the walk runs), a file written
     * beside the tree renamed in its place (a walk sees it whole or not at all).
     */
    function change(root: string, d: number): void {
      renameSync(join(root, `c${d}`), join(base, 'trash', String(trash++)));
      if (d % 2 === 0) {
        const file = join(base, 'trash', String(trash++));
        writeFileSync(file, Buffer.alloc(7000 + d, 3));
        renameSync(file, join(root, `c${d}`));
      }
    }
    before(() => {
      mkdirSync(join(base, 'trash'));
    });
    /** c-dirs made again for the next round. */
    function renew(root: string): void {
      for (let d = 0; d < N; d++) rmSync(join(root, `c${d}`), { force: true });
      makeChurnTree(root, 0);
    }

    function checkRule(root: string, w: Awaited<ReturnType<typeof walkWith>>, before: ReturnType<typeof oracle>, after: ReturnType<typeof oracle>): { before: number; after: number; vanished: number } {
      const seen = { before: 0, after: 0, vanished: w.problems.length };
      const changing = (p: Buffer) => /^c\d+/.test(p.toString('latin1'));
      for (const p of w.problems) {
        assert.equal(p.message, VANISHED, JSON.stringify(p));
        assert.match(p.path!, new RegExp(`^${root}/c\\d+`));
      }
      const ix = w.index;
      let sum = 0;
      const asFigures = (e: OracleEntry | undefined) => (e ? `${e.type === 'd' ? KIND.dir : KIND.file} ${e.disk}/${e.apparent}` : 'none');
      for (let i = 0; i < ix.count; i++) {
        sum += ix.disk[i]!;
        const h = ix.hashes[i]!;
        const got = `${ix.kinds[i]} ${ix.disk[i]}/${ix.apparent[i]}`;
        const [b, a] = [before.get(h), after.get(h)];
        assert.ok(got === asFigures(b) || got === asFigures(a), `entry ${i}: ${got}, before ${asFigures(b)}, after ${asFigures(a)}`);
        const p = (b ?? a)!.path;
        if (changing(p) && got !== asFigures(a)) seen.before += 1;
        else if (changing(p) && got !== asFigures(b)) seen.after += 1;
        const parent = ix.parents[i]!;
        if (parent >= 0) assert.equal(ix.kinds[parent], KIND.dir, 'a child only under its directory as it was');
      }
      for (const [h, e] of before) if (!changing(e.path)) assert.ok(ix.hashes.includes(h), `unchanged ${e.path.toString('latin1')} indexed`);
      assert.equal(w.size.disk, sum + lstatSync(root).blocks * 512);
      return seen;
    }

    it('staged (the Node walker): a directory replaced by a file and a subtree removed between listing and reading are churn; the rest exact', async () => {
      const root = join(base, 'staged-churn');
      makeChurnTree(root, 200);
      const snapshot = oracle(root);
      const fs: WalkFs = {
        ...nodeWalkFs,
        readdir: (p) => {
          const m = /\/c(\d+)$/.exec(String(p));
          if (m) change(root, Number(m[1]));
          return nodeWalkFs.readdir(p);
        },
      };
      const problems: Problem[] = [];
      const { size, index } = await walkTree(root, { problems, fs, index: true });
      // Each c-dir was lstat-ed as a directory, then changed before it was read: its own blocks
      // count, nothing under it, and it is named once as churn.
      assert.deepEqual(problems.map((p) => p.message), Array(N).fill(VANISHED));
      const cdirs = [...snapshot.values()].filter((e) => /^c\d+$/.test(e.path.toString('latin1')));
      const stable = [...snapshot.values()].filter((e) => e.path.toString('latin1').startsWith('stable'));
      const expectDisk = lstatSync(root).blocks * 512 + [...cdirs, ...stable].reduce((s, e) => s + e.disk, 0);
      assert.equal(size.disk, expectDisk);
      assert.equal(size.apparent, stable.reduce((s, e) => s + e.apparent, 0));
      assert.equal(index!.count, cdirs.length + stable.length);
      checkRule(root, { size, index: index!, problems }, snapshot, oracle(root));
    });

    describe('raced', () => {
      let root: string;
      before(() => {
        root = join(base, 'raced');
        makeChurnTree(root, 2000);
      });
      for (const mode of MODES) {
        it(`${mode}: directories moved out or replaced by files while it walks: the walk completes and the rule holds`, async () => {
          const tally = { before: 0, after: 0, vanished: 0 };
          for (let round = 0; round < 3; round++) {
            if (!lstatSync(join(root, 'c0')).isDirectory()) renew(root); // the last round changed it
            const before = oracle(root);
            const walking = walkWith(mode, root);
            for (let d = 0; d < N; d++) {
              change(root, d);
              await new Promise((r) => setImmediate(r));
            }
            const w = await walking;
            const seen = checkRule(root, w, before, oracle(root));
            for (const k of ['before', 'after', 'vanished'] as const) tally[k] += seen[k];
          }
          process.stdout.write(`      ${mode}: over 3 rounds, ${tally.before} entries of changed directories counted as before the change, ${tally.after} as after, ${tally.vanished} named as churn\n`);
        });
      }
    });
  });
});
