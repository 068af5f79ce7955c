// findInto against GNU find on real trees (spawns find; the record parser is tested in unit).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findInto } from '../../collectors/walk/find-walk.js';
import { TreeTally } from '../../collectors/walk/tally.js';

describe('findInto', () => {
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'layerdu-find-'));
  });
  after(() => {
    rmSync(tmp, { recursive: true, force: true });
  });

  it('reads every record of a find that exits while its output is still being read', async function () {
    this.timeout(60_000); // 20,000 files to make
    // Reading goes a few milliseconds at a time; find is long gone before the last record.
    const root = join(tmp, 'many');
    for (let d = 0; d < 200; d++) {
      mkdirSync(join(root, `d${d}`), { recursive: true });
      for (let f = 0; f < 100; f++) writeFileSync(join(root, `d${d}`, `f${f}`), 'x');
    }
    const tally = new TreeTally(true);
    await findInto([root], tally);
    const { size, problems: errors, index } = tally.outcome();
    assert.deepEqual(errors, []);
    assert.equal(size.entries, 1 + 200 + 20_000);
    assert.equal(size.apparent, 20_000);
    assert.equal(index!.count, 200 + 20_000);
  });

  it('a find that cannot start is one error, and the walk still completes', async () => {
    const path = process.env.PATH;
    process.env.PATH = join(tmp, 'no-such-bin');
    try {
      const tally = new TreeTally(false);
      await findInto([tmp], tally);
      const { size, problems: errors } = tally.outcome();
      assert.equal(errors.length, 1);
      assert.match(errors[0]!.message, /^cannot run find: .*ENOENT/);
      assert.deepEqual(size, { disk: 0, apparent: 0, entries: 0 });
    } finally {
      process.env.PATH = path;
    }
  });

  it('sums several roots into one tally, in order, and names a vanished one once', async () => {
    mkdirSync(join(tmp, 'one', 'sub'), { recursive: true });
    writeFileSync(join(tmp, 'one', 'sub', 'f'), Buffer.alloc(10_000, 1));
    writeFileSync(join(tmp, 'single'), Buffer.alloc(300, 2));
    mkdirSync(join(tmp, 'two'));
    writeFileSync(join(tmp, 'two', 'g'), 'g');
    const tally = new TreeTally(false);
    await findInto([join(tmp, 'one'), join(tmp, 'gone'), join(tmp, 'single'), join(tmp, 'two')], tally);
    const { size, problems: errors } = tally.outcome();
    assert.deepEqual(errors, [{ path: join(tmp, 'gone'), message: 'vanished during the walk' }]);
    assert.equal(size.apparent, 10_000 + 300 + 1);
    assert.equal(size.entries, 6); // one, one/sub, one/sub/f, single, two, two/g
  });
});
