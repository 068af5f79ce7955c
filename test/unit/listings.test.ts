// collectors/walk/listings.ts: when a directory's last listing may stand in for reading it again.
import assert from 'node:assert/strict';
import { LISTING_MARGIN_MS, ListingsCapture, listingsUsable, MAX_LISTED_NAMES, namesOf, stillListed, type WalkClock } from '../../collectors/walk/listings.js';

const clock = (wallMs: number, monoMs: number): WalkClock => ({ wallMs: () => wallMs, monoMs: () => monoMs });
const names = (...n: (string | Buffer)[]) => n.map((x) => (typeof x === 'string' ? Buffer.from(x) : x));

describe('listings', () => {
  const listedAt = 1_700_000_000_000;
  function listed(dirs: Record<string, { ino: number; names: Buffer[] }>) {
    const c = new ListingsCapture({ wallMs: listedAt, monoMs: 5_000 });
    for (const [path, d] of Object.entries(dirs)) c.add(path, d.ino, d.names);
    return c.result()!;
  }

  it('gives back the names in the order listed, bytes that are no UTF-8 and single names included', () => {
    const odd = Buffer.from([0x66, 0xff, 0x0a]);
    const l = listed({ '/t': { ino: 2, names: names('b', 'a', odd) }, '/t/b': { ino: 3, names: names('only') }, '/t/a': { ino: 4, names: [] } });
    assert.deepEqual(namesOf(stillListed(l, '/t', 2, 0)!), names('b', 'a', odd));
    assert.deepEqual(namesOf(stillListed(l, '/t/b', 3, 0)!), names('only'));
    assert.deepEqual(namesOf(stillListed(l, '/t/a', 4, 0)!), []);
    assert.equal(l.names, 4);
  });

  it('stands in only for the same inode, changed well before the listing began', () => {
    const l = listed({ '/t': { ino: 2, names: names('x') } });
    assert.ok(stillListed(l, '/t', 2, listedAt - LISTING_MARGIN_MS - 1));
    // Changed during the walk, or within the kernel clock's lag before it: read again.
    assert.equal(stillListed(l, '/t', 2, listedAt - LISTING_MARGIN_MS), null);
    assert.equal(stillListed(l, '/t', 2, listedAt + 10), null);
    // Another directory made under the same name.
    assert.equal(stillListed(l, '/t', 9, 0), null);
    assert.equal(stillListed(l, '/elsewhere', 2, 0), null);
    // A path that is no string (a name that is no UTF-8) is never remembered.
    assert.equal(stillListed(l, Buffer.from('/t'), 2, 0), null);
  });

  it('is dropped when the wall clock was set back since the listing', () => {
    const l = listed({ '/t': { ino: 2, names: names('x') } });
    assert.ok(listingsUsable(l, clock(listedAt + 60_000, 5_000 + 60_000)), 'both clocks moved alike');
    assert.ok(listingsUsable(l, clock(listedAt + 60_000 - LISTING_MARGIN_MS, 5_000 + 60_000)), 'within the margin');
    assert.equal(listingsUsable(l, clock(listedAt + 30_000, 5_000 + 60_000)), false, 'set back 30 s');
    assert.equal(listingsUsable(l, clock(listedAt - 1, 5_000 + 1)), false, 'before the listing');
  });

  it('keeps nothing of a walk that failed, or that listed too many names', () => {
    const failed = new ListingsCapture({ wallMs: listedAt, monoMs: 0 });
    failed.add('/t', 2, names('a'));
    failed.fail();
    failed.add('/u', 3, names('b'));
    assert.equal(failed.result(), null);

    const big = new ListingsCapture({ wallMs: listedAt, monoMs: 0 });
    big.add('/t', 2, names(...Array.from({ length: MAX_LISTED_NAMES }, (_, i) => `f${i}`)));
    assert.equal(big.result()?.names, MAX_LISTED_NAMES);
    big.add('/t/more', 3, names('one too many'));
    assert.equal(big.result(), null);
  });

  it('keeps a listing found unchanged as it was', () => {
    const l = listed({ '/t': { ino: 2, names: names('a', 'b') } });
    const next = new ListingsCapture({ wallMs: listedAt + 60_000, monoMs: 65_000 });
    next.keep('/t', stillListed(l, '/t', 2, 0)!);
    const r = next.result()!;
    assert.equal(r.names, 2);
    assert.equal(r.wallMs, listedAt + 60_000);
    assert.deepEqual(namesOf(stillListed(r, '/t', 2, 0)!), names('a', 'b'));
  });
});
