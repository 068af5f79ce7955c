import assert from 'node:assert/strict';
import { HashFlags } from '../../collectors/lib/hash-flags.js';
import { hashPath } from '../../collectors/lib/path-index.js';

describe('HashFlags', () => {
  it('holds exactly what was marked, through many growths, each key once with its bits joined', () => {
    const s = new HashFlags();
    const added = Array.from({ length: 20_000 }, (_, i) => hashPath(`dir${i % 97}/file${i}`));
    for (const h of added) s.mark(h, 1);
    for (const [i, h] of added.entries()) if (i % 3 === 0) s.mark(h, 4);
    assert.equal(s.size, new Set(added).size);
    for (const [i, h] of added.entries()) assert.equal(s.get(h), i % 3 === 0 ? 5 : 1);
    for (let i = 0; i < 20_000; i++) assert.equal(s.get(hashPath(`elsewhere/file${i}`)), 0);
  });

  it('keeps every key and its bits through a reserve', () => {
    const s = new HashFlags();
    for (let i = 0; i < 100; i++) s.mark(hashPath(`a${i}`), 2);
    s.reserve(10_000);
    for (let i = 100; i < 10_000; i++) s.mark(hashPath(`a${i}`), 1);
    assert.equal(s.size, 10_000);
    for (let i = 0; i < 10_000; i++) assert.equal(s.get(hashPath(`a${i}`)), i < 100 ? 2 : 1);
  });

  it('keeps 0 and the largest 53-bit hash apart from empty slots', () => {
    const s = new HashFlags();
    assert.equal(s.get(0), 0);
    s.mark(0, 1);
    s.mark(2 ** 53 - 1, 2);
    assert.equal(s.get(0), 1);
    assert.equal(s.get(2 ** 53 - 1), 2);
    assert.equal(s.size, 2);
  });
});
