import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { walkIfSmall, walkTreeSync } from '../../collectors/walk/node-walk.js';

// A tree of unknown size is tried on the agent's thread before a walker starts for it
// (walk-tree.ts `smallFirst`): whole when small, given up early when not.
describe('walkIfSmall (collectors/walk/node-walk.ts)', () => {
  let base: string;
  before(() => {
    base = mkdtempSync(join(tmpdir(), 'layerdu-small-'));
  });
  after(() => rmSync(base, { recursive: true, force: true }));

  const tree = (name: string, dirs: number, files: number): string => {
    const root = join(base, name);
    for (let d = 0; d < dirs; d++) {
      mkdirSync(join(root, `d${d}`), { recursive: true });
      for (let f = 0; f < files; f++) writeFileSync(join(root, `d${d}`, `f${f}`), 'x'.repeat(f));
    }
    return root;
  };

  it('a tree within the bound is walked whole: the same sums and index as a full walk', () => {
    const root = tree('small', 3, 5); // 18 entries under the root
    const small = walkIfSmall(root, { index: true }, 18);
    const full = walkTreeSync(root, { index: true });
    assert.ok(small);
    assert.deepEqual(small.size, full.size);
    assert.deepEqual(small.problems, []);
    assert.equal(small.index!.count, full.index!.count);
    assert.deepEqual([...small.index!.disk], [...full.index!.disk]);
  });

  it('a tree past the bound, deep or flat, is given up (null)', () => {
    assert.equal(walkIfSmall(tree('deep', 3, 5), {}, 17), null);
    assert.equal(walkIfSmall(tree('flat', 1, 300), {}, 256), null);
  });

  it('a missing root is its one problem, as in a full walk', () => {
    const root = join(base, 'gone');
    assert.deepEqual(walkIfSmall(root, {}, 10), walkTreeSync(root, {}));
  });
});
