import assert from 'node:assert/strict';
import { HashSet } from '../../agent/model/hash-set.js';
import { hashPath } from '../../collectors/path-index.js';

describe('HashSet', () => {
  it('holds exactly what was added, through many growths, duplicates once', () => {
    const s = new HashSet();
    const added = Array.from({ length: 20_000 }, (_, i) => hashPath(`dir${i % 97}/file${i}`));
    for (const h of added) s.add(h);
    for (const h of added) s.add(h);
    assert.equal(s.size, new Set(added).size);
    for (const h of added) assert.equal(s.has(h), true);
    for (let i = 0; i < 20_000; i++) assert.equal(s.has(hashPath(`elsewhere/file${i}`)), false);
  });

  it('keeps every key through a reserve', () => {
    const s = new HashSet();
    for (let i = 0; i < 100; i++) s.add(hashPath(`a${i}`));
    s.reserve(10_000);
    for (let i = 100; i < 10_000; i++) s.add(hashPath(`a${i}`));
    assert.equal(s.size, 10_000);
    for (let i = 0; i < 10_000; i++) assert.equal(s.has(hashPath(`a${i}`)), true);
  });

  it('keeps 0 and the largest 53-bit hash apart from empty slots', () => {
    const s = new HashSet();
    assert.equal(s.has(0), false);
    s.add(0);
    s.add(2 ** 53 - 1);
    assert.equal(s.has(0), true);
    assert.equal(s.has(2 ** 53 - 1), true);
    assert.equal(s.size, 2);
  });
});
