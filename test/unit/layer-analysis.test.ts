import assert from 'node:assert/strict';
import type { IndexEntry, LayerIndex } from '../../collectors/lib/facts.js';
import { computeCopiedUp, computeWaste } from '../../agent/model/layer-analysis.js';
import { indexFromEntries } from '../../collectors/lib/path-index-builder.js';

const MiB = 1024 * 1024;
const BLOCK = 4096;

// Entry builders: disk bytes default to the 4 KiB-rounded size, as on ext4/xfs.
const file = (apparent: number, disk = Math.ceil(apparent / BLOCK) * BLOCK, ino?: number): IndexEntry =>
  ino === undefined ? { kind: 'file', disk, apparent } : { kind: 'file', disk, apparent, ino };
const dir = (disk = BLOCK): IndexEntry => ({ kind: 'dir', disk, apparent: 0 });
const opaque = (disk = BLOCK): IndexEntry => ({ kind: 'opaque', disk, apparent: 0 });
const whiteout = (): IndexEntry => ({ kind: 'whiteout', disk: 0, apparent: 0 });
const layer = (entries: Record<string, IndexEntry>): LayerIndex => indexFromEntries(Object.entries(entries));
// Whether a path is visible in an image: a writable layer holding only that path (and its
// parents, at zero bytes) copied something up exactly when it is.
const visible = (image: LayerIndex[], path: string): boolean => {
  const probe = indexFromEntries([[path, { kind: 'file', disk: 0, apparent: 1 }]]);
  return computeCopiedUp(probe, image).apparent === 1;
};

describe('computeWaste', () => {
  it('counts a deleted 8 MiB file and an overwritten 2 MiB file once each: exactly 10485760', () => {
    const layers = [
      layer({ bin: dir(), 'bin/sh': file(125_000) }), // 0: base
      layer({ big: file(8 * MiB) }), // 1: adds an 8 MiB file
      layer({ big: whiteout() }), // 2: deletes it
      layer({ two: file(2 * MiB) }), // 3: adds a 2 MiB file
      layer({ two: file(2 * MiB) }), // 4: overwrites it
    ];
    assert.deepEqual(computeWaste(layers), { disk: 10_485_760, apparent: 10_485_760 });
  });

  it('counts a file hidden by two upper layers once', () => {
    const layers = [
      layer({ a: file(100_000) }),
      layer({ a: whiteout() }),
      layer({ a: file(7) }), // re-created above the whiteout: hides the lower copy again
    ];
    assert.deepEqual(computeWaste(layers), { disk: 102_400, apparent: 100_000 });
  });

  it('counts each hidden copy of a file overwritten twice, in the layer that holds it', () => {
    const layers = [layer({ a: file(100) }), layer({ a: file(30) }), layer({ a: file(7) })];
    assert.deepEqual(computeWaste(layers), { disk: 2 * BLOCK, apparent: 130 });
  });

  it('an opaque directory hides the lower children but not the lower directory itself', () => {
    const layers = [
      layer({ d: dir(), 'd/x': file(1000), 'd/sub': dir(), 'd/sub/y': file(5000), keep: file(3) }),
      layer({ d: opaque(), 'd/new': file(10) }),
    ];
    // d/x, d/sub and d/sub/y are hidden; d itself and keep are not.
    assert.deepEqual(computeWaste(layers), { disk: 4 * BLOCK, apparent: 6000 });
  });

  it('a whiteout of a directory hides its whole subtree, directories included', () => {
    const layers = [
      layer({ d: dir(), 'd/e': dir(), 'd/e/f': file(500), 'd/g': file(9000), other: file(1) }),
      layer({ d: whiteout() }),
    ];
    // d, d/e (dirs: 4096 each), d/e/f (4096), d/g (12288)
    assert.deepEqual(computeWaste(layers), { disk: 3 * BLOCK + 3 * BLOCK, apparent: 9500 });
  });

  it('a directory in an upper layer hides a file at the same path below', () => {
    const layers = [layer({ p: file(300) }), layer({ p: opaque(), 'p/q': file(1) })];
    assert.deepEqual(computeWaste(layers), { disk: BLOCK, apparent: 300 });
    const plainDir = [layer({ p: file(300) }), layer({ p: dir() })];
    assert.deepEqual(computeWaste(plainDir), { disk: BLOCK, apparent: 300 });
  });

  it('a file in an upper layer over a lower directory hides the directory and its subtree', () => {
    const layers = [layer({ p: dir(), 'p/q': file(200), 'p/r': dir(), 'p/r/s': file(4097) }), layer({ p: file(10) })];
    assert.deepEqual(computeWaste(layers), { disk: BLOCK + BLOCK + BLOCK + 2 * BLOCK, apparent: 4297 });
  });

  it('a hardlinked inode is wasted only when every one of its paths is hidden', () => {
    // The walker gives the first path of an inode its bytes and the others zero, all with `ino`.
    const base = () => layer({ a: file(1000, BLOCK, 42), b: file(0, 0, 42), c: file(50) });
    assert.deepEqual(computeWaste([base(), layer({ a: whiteout() })]), { disk: 0, apparent: 0 });
    assert.deepEqual(computeWaste([base(), layer({ b: whiteout() })]), { disk: 0, apparent: 0 });
    assert.deepEqual(computeWaste([base(), layer({ a: whiteout() }), layer({ b: whiteout() })]), { disk: BLOCK, apparent: 1000 });
    assert.deepEqual(computeWaste([base(), layer({ a: whiteout(), b: file(1), c: whiteout() })]), {
      disk: 2 * BLOCK,
      apparent: 1050,
    });
  });

  it('never counts the top layer, even where its own entries overlap', () => {
    assert.deepEqual(computeWaste([layer({ d: opaque(), 'd/x': file(100), w: whiteout() })]), { disk: 0, apparent: 0 });
    const layers = [
      layer({ base: file(10) }),
      layer({ d: opaque(), 'd/x': file(100) }), // a layer's opaque dir does not hide its own children
      layer({ d: opaque(), 'd/x': file(100), 'd/y': file(100_000) }),
    ];
    // Only the middle layer's d/x is hidden (by the top layer's opaque d and its d/x).
    assert.deepEqual(computeWaste(layers), { disk: BLOCK, apparent: 100 });
  });

  it('agrees with a brute-force reading of the rules on random stacks, small bases under big layers included', () => {
    // A seeded generator (mulberry32): the same stacks on every run.
    let seed = 20261123;
    const rand = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
    };
    const names = ['a', 'b', 'c', 'd'];
    const universe: string[] = [];
    for (const x of names) for (const y of ['', ...names]) for (const z of y ? ['', ...names] : ['']) universe.push([x, y, z].filter(Boolean).join('/'));
    const kinds = ['file', 'dir', 'opaque', 'whiteout'] as const;
    const nonDir = (k: string | undefined) => k === 'file' || k === 'whiteout' || k === 'other';
    let scannedCases = 0;
    for (let round = 0; round < 300; round++) {
      const stack: Array<Map<string, IndexEntry>> = [];
      const depth = 2 + Math.floor(rand() * 3);
      for (let l = 0; l < depth; l++) {
        // Layers of very different sizes: a two-path base under a full layer takes the scan.
        const share = l === 0 && round % 2 === 0 ? 0.03 : 0.2 + rand() * 0.8;
        const m = new Map<string, IndexEntry>();
        for (const path of universe) {
          if (rand() > share) continue;
          const kind = kinds[Math.floor(rand() * kinds.length)]!;
          const size = 1 + Math.floor(rand() * 9000);
          m.set(path, kind === 'file' ? file(size) : kind === 'whiteout' ? whiteout() : kind === 'dir' ? dir() : opaque());
        }
        // An overlay diff holds the parents of what it changes, as directories.
        for (const path of [...m.keys()]) {
          for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) {
            const parent = path.slice(0, i);
            if (!m.has(parent) || nonDir(m.get(parent)!.kind)) m.set(parent, dir());
          }
        }
        stack.push(m);
      }
      if (stack[0]!.size * 8 < stack.slice(1).reduce((n, m) => n + m.size, 0)) scannedCases += 1;
      const expected = { disk: 0, apparent: 0 };
      stack.forEach((m, j) => {
        for (const [path, e] of m) {
          const ancestors = path.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'));
          const hidden = stack.slice(j + 1).some((up) => {
            const k = up.get(path)?.kind;
            if (nonDir(k)) return true;
            if (k !== undefined && nonDir(e.kind)) return true; // a directory over a non-directory
            return ancestors.some((a) => nonDir(up.get(a)?.kind) || up.get(a)?.kind === 'opaque');
          });
          if (hidden) {
            expected.disk += e.disk;
            expected.apparent += e.apparent;
          }
        }
      });
      assert.deepEqual(computeWaste(stack.map((m) => indexFromEntries(m))), expected, `round ${round}`);
    }
    assert.ok(scannedCases > 50, `only ${scannedCases} stacks had a small base under big layers`);
  });

  it('is zero for no layers, one layer, and unrelated layers', () => {
    assert.deepEqual(computeWaste([]), { disk: 0, apparent: 0 });
    assert.deepEqual(computeWaste([layer({ a: file(5) })]), { disk: 0, apparent: 0 });
    assert.deepEqual(computeWaste([layer({ a: file(5), d: dir() }), layer({ b: file(5), d: dir(), 'd/z': file(3) })]), {
      disk: 0,
      apparent: 0,
    });
  });
});

describe('what the image shows (copy-up of one path)', () => {
  const image = [
    layer({ etc: dir(), 'etc/passwd': file(1000), gone: file(5), d: dir(), 'd/old': file(10), 'd/both': file(10), t: dir(), 't/u': file(1) }),
    layer({ gone: whiteout(), d: opaque(), 'd/both': file(20), t: whiteout() }),
    layer({ d: dir(), 'd/top': file(1) }),
  ];

  it('sees paths through the layers', () => {
    assert.equal(visible(image, 'etc'), true);
    assert.equal(visible(image, 'etc/passwd'), true);
    assert.equal(visible(image, 'd'), true);
    assert.equal(visible(image, 'd/both'), true);
    assert.equal(visible(image, 'd/top'), true);
  });

  it('does not see deleted paths, paths below a deleted dir, below an opaque dir, or unknown paths', () => {
    assert.equal(visible(image, 'gone'), false);
    assert.equal(visible(image, 't'), false);
    assert.equal(visible(image, 't/u'), false);
    assert.equal(visible(image, 'd/old'), false);
    assert.equal(visible(image, 'nope'), false);
    assert.equal(visible(image, 'etc/nope'), false);
    assert.equal(visible([], 'etc'), false);
  });
});

describe('computeCopiedUp', () => {
  const image = [
    layer({ etc: dir(), 'etc/passwd': file(1000), 'etc/shadow': file(500), gone: file(5), d: dir(), 'd/old': file(10), 'd/kept': file(10) }),
    layer({ gone: whiteout(), d: opaque(), 'd/kept': file(20) }),
  ];

  it('counts a file the image has and the container rewrote', () => {
    const writable = layer({ 'etc/passwd': file(1100) });
    assert.deepEqual(computeCopiedUp(writable, image), { disk: BLOCK, apparent: 1100 });
  });

  it('counts copied-up directories too, on disk bytes', () => {
    const writable = layer({ etc: dir(), 'etc/passwd': file(1100) });
    assert.deepEqual(computeCopiedUp(writable, image), { disk: 2 * BLOCK, apparent: 1100 });
  });

  it('does not count a file new in the writable layer', () => {
    assert.deepEqual(computeCopiedUp(layer({ 'etc/new': file(9000), fresh: file(1) }), image), { disk: 0, apparent: 0 });
  });

  it('does not count a path the image whited out', () => {
    assert.deepEqual(computeCopiedUp(layer({ gone: file(5000) }), image), { disk: 0, apparent: 0 });
  });

  it('below an opaque dir, counts only paths present at or above the opaque layer', () => {
    const writable = layer({ 'd/old': file(3000), 'd/kept': file(7000) });
    assert.deepEqual(computeCopiedUp(writable, image), { disk: 2 * BLOCK, apparent: 7000 });
  });

  it('never counts whiteouts in the writable layer', () => {
    // A sentinel size on the whiteout proves it is skipped, not just worth zero.
    const writable = layer({ 'etc/shadow': { kind: 'whiteout', disk: 777, apparent: 333 }, etc: { kind: 'whiteout', disk: 1, apparent: 1 } });
    assert.deepEqual(computeCopiedUp(writable, image), { disk: 0, apparent: 0 });
  });

  it('is zero for an image without layer indexes', () => {
    assert.deepEqual(computeCopiedUp(layer({ 'etc/passwd': file(1100) }), []), { disk: 0, apparent: 0 });
  });

  it('an opaque directory hides what is under it at any depth, with layer numbers past a byte (300 layers) as with 2', () => {
    const base = layer({ a: dir(), 'a/b': dir(), 'a/b/c': dir(), 'a/b/c/f': file(10), 'a/b/g': file(10), 'a/top': file(10) });
    const upper = layer({ a: opaque(), 'a/top': file(20) });
    const writable = layer({ a: dir(), 'a/b': dir(), 'a/b/c': dir(), 'a/b/c/f': file(3000), 'a/b/g': file(4000), 'a/top': file(5000) });
    const want = { disk: 3 * BLOCK, apparent: 5000 }; // a itself (a block) and a/top (two): the rest is hidden below the opaque a
    assert.deepEqual(computeCopiedUp(writable, [base, upper]), want);
    const fillers = Array.from({ length: 298 }, (_, i) => layer({ [`x${i}`]: file(1) }));
    assert.deepEqual(computeCopiedUp(writable, [base, ...fillers, upper]), want);
  });
});
