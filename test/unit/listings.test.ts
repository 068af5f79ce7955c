// collectors/walk/listings.ts: when a directory's last listing may stand in for reading it again.
import assert from 'node:assert/strict';
import { childHash, ROOT_HASH } from '../../collectors/lib/path-index.js';
import { formerDir, LISTING_MARGIN_MS, ListingsCapture, listingsUsable, MAX_LISTED_NAMES, namesRead, stillListed, type Listed, type WalkClock } from '../../collectors/walk/listings.js';

const clock = (wallMs: number, monoMs: number): WalkClock => ({ wallMs: () => wallMs, monoMs: () => monoMs });
const bytes = (...n: (string | Buffer)[]) => n.map((x) => (typeof x === 'string' ? Buffer.from(x) : x));

describe('listings', () => {
  const listedAt = 1_700_000_000_000;
  const capture = () => new ListingsCapture({ wallMs: listedAt, monoMs: 5_000 });

  it('keeps names as strings while UTF-8 and as bytes when not, each hashed under its directory', () => {
    const odd = Buffer.from([0x66, 0xff, 0x0a]);
    const read = namesRead(bytes('b', odd), ROOT_HASH);
    assert.deepEqual(read.names, ['b', odd]);
    assert.deepEqual([...read.hashes], [childHash(ROOT_HASH, Buffer.from('b')), childHash(ROOT_HASH, odd)]);
  });

  it('is a tree: a listing holds those of its subdirectories, by position', () => {
    const c = capture();
    const top = namesRead(bytes('a', 'b'), ROOT_HASH);
    const root = c.listing(2, top.names, top.hashes);
    const b = namesRead(bytes('x'), top.hashes[1]!);
    c.attach(root, 1, c.listing(3, b.names, b.hashes));
    c.setRoot(root);
    const l = c.result()!;
    assert.equal(l.names, 3);
    assert.equal(l.root.dirs[0], undefined);
    assert.deepEqual(l.root.dirs[1]!.names, ['x']);
    assert.equal(l.wallMs, listedAt);
  });

  it('stands in only for the same inode, changed well before the listing began', () => {
    const d: Listed = { ino: 2, names: ['x'], hashes: new Float64Array(1), dirs: [undefined] };
    assert.equal(stillListed(d, 2, listedAt - LISTING_MARGIN_MS - 1, listedAt), d);
    // Changed during the walk, or within the kernel clock's lag before it: read again.
    assert.equal(stillListed(d, 2, listedAt - LISTING_MARGIN_MS, listedAt), null);
    assert.equal(stillListed(d, 2, listedAt + 10, listedAt), null);
    // Another directory made under the same name, or none listed there.
    assert.equal(stillListed(d, 9, 0, listedAt), null);
    assert.equal(stillListed(undefined, 2, 0, listedAt), null);
  });

  it('finds a read-again directory’s former subdirectories by name', () => {
    const sub: Listed = { ino: 5, names: [], hashes: new Float64Array(0), dirs: [] };
    const odd = Buffer.from([0xfe]);
    const oddSub: Listed = { ino: 6, names: [], hashes: new Float64Array(0), dirs: [] };
    const former: Listed = { ino: 2, names: ['f', 'sub', odd], hashes: new Float64Array(3), dirs: [undefined, sub, oddSub] };
    const cache = new WeakMap<Listed, Map<string, number>>();
    assert.equal(formerDir(former, 'sub', cache), sub);
    assert.equal(formerDir(former, Buffer.from([0xfe]), cache), oddSub);
    assert.equal(formerDir(former, 'f', cache), undefined, 'a file has no listing');
    assert.equal(formerDir(former, 'new', cache), undefined);
    assert.equal(formerDir(null, 'sub', cache), undefined);
  });

  it('is dropped when the wall clock was set back since the listing', () => {
    const c = capture();
    c.setRoot(c.listing(2, ['x'], new Float64Array(1)));
    const l = c.result()!;
    assert.ok(listingsUsable(l, clock(listedAt + 60_000, 5_000 + 60_000)), 'both clocks moved alike');
    assert.ok(listingsUsable(l, clock(listedAt + 60_000 - LISTING_MARGIN_MS, 5_000 + 60_000)), 'within the margin');
    assert.equal(listingsUsable(l, clock(listedAt + 30_000, 5_000 + 60_000)), false, 'set back 30 s');
    assert.equal(listingsUsable(l, clock(listedAt - 1, 5_000 + 1)), false, 'before the listing');
  });

  it('keeps nothing of a walk that failed, that listed too many names, or no root', () => {
    const failed = capture();
    failed.setRoot(failed.listing(2, ['a'], new Float64Array(1)));
    failed.fail();
    assert.equal(failed.result(), null);
    assert.equal(failed.overflowed, false);

    const big = capture();
    const many = namesRead(bytes(...Array.from({ length: MAX_LISTED_NAMES }, (_, i) => `f${i}`)), ROOT_HASH);
    const root = big.listing(2, many.names, many.hashes);
    big.setRoot(root);
    assert.equal(big.result()?.names, MAX_LISTED_NAMES);
    big.attach(root, 0, big.listing(3, ['one too many'], new Float64Array(1)));
    assert.equal(big.result(), null);
    assert.equal(big.overflowed, true);

    assert.equal(capture().result(), null);
  });

  it('keeps a listing found unchanged with its names, its subdirectories attached anew', () => {
    const c = capture();
    const d: Listed = { ino: 2, names: ['a', 'b'], hashes: new Float64Array(2), dirs: [undefined, { ino: 3, names: [], hashes: new Float64Array(0), dirs: [] }] };
    const kept = c.kept(d);
    assert.equal(kept.names, d.names, 'the same names, not a copy');
    assert.deepEqual([...kept.dirs], [undefined, undefined]);
  });
});
