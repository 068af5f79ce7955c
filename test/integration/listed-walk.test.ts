// Walks of trees walked every scan (a writable layer) with what the last walk listed
// (collectors/walk/listings.ts, node-walk.ts's walkListedSteps, the find spawner's listed walks):
// the same sums and index as a full walk, a change in any directory seen, and an unchanged
// directory not read again.
import assert from 'node:assert/strict';
import { appendFileSync, linkSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LayerIndex } from '../../collectors/lib/facts.js';
import { prepareFindSpawner, walkListedInSpawner } from '../../collectors/walk/find-spawner.js';
import { findInto, walkWithFind } from '../../collectors/walk/find-walk.js';
import { ListingsCapture, MAX_LISTED_NAMES, type Listed, type Listings, type WalkClock } from '../../collectors/walk/listings.js';
import { walkListedSteps } from '../../collectors/walk/listed-walk.js';
import { nodeWalkFs, walkTreeSync } from '../../collectors/walk/node-walk.js';
import { TreeTally, type WalkOutcome } from '../../collectors/walk/tally.js';

/**
 * The index as a set of paths and kinds, whatever order a walker met them in (the bytes of a
 * file with two links go to the link met first, which depends on that order; the sums do not).
 */
function entriesOf(index: LayerIndex | null): string[] {
  assert.ok(index);
  const out: string[] = [];
  for (let i = 0; i < index.count; i++) out.push(`${index.hashes[i]} ${index.kinds[i]}`);
  return out.sort();
}

function walkListed(root: string, previous: Listings | null, clock?: WalkClock): { outcome: WalkOutcome; listings: Listings | null } {
  const capture = ListingsCapture.startingNow(clock);
  const steps = walkListedSteps(root, { index: true, opaque: false }, new TreeTally(true, false), previous, capture);
  for (;;) {
    const r = steps.next();
    if (r.done) return { outcome: r.value, listings: capture.result() };
  }
}

function dirsIn(l: Listed): number {
  return 1 + l.dirs.reduce((n, d) => n + (d ? dirsIn(d) : 0), 0);
}

/** As though the last listing was taken a minute from now: every directory predates it. */
const later: WalkClock = { wallMs: () => Date.now() + 60_000, monoMs: () => performance.now() + 60_000 };

describe('listed walks', function () {
  this.timeout(120_000);
  let tmp: string;
  let tree: string;
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'layerdu-listed-'));
    tree = join(tmp, 'tree');
    for (let d = 0; d < 30; d++) {
      mkdirSync(join(tree, `d${d}`, 'deep', 'deeper'), { recursive: true });
      for (let f = 0; f < 20; f++) writeFileSync(join(tree, `d${d}`, `f${f}`), 'x'.repeat(f * 300));
      writeFileSync(join(tree, `d${d}`, 'deep', 'deeper', 'leaf'), 'leaf');
    }
    // Names that are no UTF-8: a file, and a directory holding one.
    const raw = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
    writeFileSync(raw(tree, '/', [0x6e, 0xff]), 'odd name');
    mkdirSync(raw(tree, '/', [0x64, 0xfe]));
    writeFileSync(raw(tree, '/', [0x64, 0xfe], '/inner'), 'inner');
    linkSync(join(tree, 'd0', 'f3'), join(tree, 'd1', 'again'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('gives the sums and index of a full walk, and an unchanged tree the very same index again', async () => {
    const first = walkListed(tree, null);
    const node = walkTreeSync(tree, { index: true, opaque: false });
    const find = await walkWithFind(tree, { index: true, opaque: false });
    assert.equal(first.outcome.size.entries, 1 + 30 * 24 + 3); // the root, 30 × (3 dirs, 21 files), the odd names; the second link is no entry
    assert.deepEqual(first.outcome.size, node.size);
    assert.deepEqual(first.outcome.size, find.size);
    assert.deepEqual(entriesOf(first.outcome.index), entriesOf(node.index));
    assert.deepEqual(entriesOf(first.outcome.index), entriesOf(find.index));
    assert.deepEqual(first.outcome.problems, []);
    assert.equal(first.listings && dirsIn(first.listings.root), 1 + 30 * 3 + 1);

    const again = walkListed(tree, first.listings, later);
    assert.deepEqual(again.outcome, first.outcome, 'entry for entry, in the same order');
  });

  it('walks a tree find listed to the very index find gave, entry for entry (the copy-up memo compares them)', async () => {
    const capture = ListingsCapture.startingNow(later);
    const tally = new TreeTally(true, false);
    await findInto([tree], tally, capture);
    const viaFind = tally.outcome();
    const listings = capture.result();
    assert.ok(listings);
    assert.equal(dirsIn(listings.root), 1 + 30 * 3 + 1);
    assert.deepEqual(walkListed(tree, listings, later).outcome, viaFind);
  });

  it('sees a file grown in a directory that did not change', () => {
    const first = walkListed(tree, null, later);
    appendFileSync(join(tree, 'd2', 'f0'), 'y'.repeat(50_000));
    const again = walkListed(tree, first.listings, later);
    assert.equal(again.outcome.size.apparent, first.outcome.size.apparent + 50_000);
    assert.ok(again.outcome.size.disk > first.outcome.size.disk);
  });

  it('reads again a directory changed since it was listed, and only trusts one that predates the listing', () => {
    const first = walkListed(tree, null);
    writeFileSync(join(tree, 'd3', 'deep', 'new'), 'new file');
    // The listing began before the change: d3/deep is read again and the new file counted.
    const seen = walkListed(tree, first.listings);
    assert.equal(seen.outcome.size.entries, first.outcome.size.entries + 1);
    // A listing that claims to be newer than the change stands in for d3/deep: the file is not
    // seen, which shows the directory was not read (the clock rule is what keeps this honest).
    const stale = walkListed(tree, walkListed(tree, null, later).listings, later);
    writeFileSync(join(tree, 'd4', 'deep', 'unseen'), 'x');
    const trusted = walkListed(tree, stale.listings, later);
    assert.equal(trusted.outcome.size.entries, stale.outcome.size.entries);
    rmSync(join(tree, 'd4', 'deep', 'unseen'));
  });

  it('reads again only the directory that changed, its unchanged subdirectories found by name', async () => {
    const t = join(tmp, 'changes');
    mkdirSync(join(t, 'p', 'c'), { recursive: true });
    mkdirSync(join(t, 'q'));
    writeFileSync(join(t, 'p', 'c', 'f'), 'f');
    await new Promise((r) => setTimeout(r, 1500));
    // Listed "half a second from now": what was made 1.5 s ago predates it by more than the margin.
    const soon: WalkClock = { wallMs: () => Date.now() + 500, monoMs: () => performance.now() + 500 };
    const first = walkListed(t, null, soon);
    writeFileSync(join(t, 'p', 'new'), 'n');
    const read: string[] = [];
    const readdir = nodeWalkFs.readdir;
    nodeWalkFs.readdir = (p) => (read.push(String(p)), readdir(p));
    try {
      const again = walkListed(t, first.listings, soon);
      assert.deepEqual(read, [join(t, 'p')]);
      assert.equal(again.outcome.size.entries, first.outcome.size.entries + 1);
      assert.equal(again.listings && dirsIn(again.listings.root), 4, 'the root, p, p/c and q, all listed again');
    } finally {
      nodeWalkFs.readdir = readdir;
    }
  });

  it('names a directory removed since it was listed, and keeps no listings of that walk', () => {
    mkdirSync(join(tree, 'gone', 'inner'), { recursive: true });
    const first = walkListed(tree, null, later);
    rmSync(join(tree, 'gone'), { recursive: true });
    const again = walkListed(tree, first.listings, later);
    // The root's listing still names it (trusted by the later clock): its lstat finds it gone.
    assert.deepEqual(again.outcome.problems.map((p) => p.message), ['vanished during the walk']);
    assert.equal(again.listings, null);
  });

  it('in the find spawner: find the first time, then its listings: the same sums and paths; a change seen; a tree too big goes to find', async () => {
    prepareFindSpawner();
    const find = await walkWithFind(tree, { index: true, opaque: false });
    const first = await walkListedInSpawner(tree, { index: true, opaque: false }, 1);
    assert.ok(first && first !== 'too big', 'the spawner walked it');
    assert.deepEqual(first.size, find.size);
    assert.deepEqual(entriesOf(first.index), entriesOf(find.index));
    // Directories changed within the last second are read again (here, in readdir's order, not
    // find's); from then on the listing stands in for them, in the same order.
    const second = await walkListedInSpawner(tree, { index: true, opaque: false }, 2);
    assert.ok(second && second !== 'too big');
    assert.deepEqual(second.size, first.size);
    assert.deepEqual(entriesOf(second.index), entriesOf(first.index));
    assert.deepEqual(await walkListedInSpawner(tree, { index: true, opaque: false }, 3), second);
    writeFileSync(join(tree, 'd5', 'added'), 'added');
    const fourth = await walkListedInSpawner(tree, { index: true, opaque: false }, 4);
    assert.ok(fourth && fourth !== 'too big');
    assert.equal(fourth.size.entries, first.size.entries + 1);

    const big = join(tmp, 'big');
    mkdirSync(big);
    for (let i = 0; i <= MAX_LISTED_NAMES; i++) writeFileSync(join(big, `f${i}`), '');
    assert.equal(await walkListedInSpawner(big, { index: true, opaque: false }, 4), 'too big');
  });
});
