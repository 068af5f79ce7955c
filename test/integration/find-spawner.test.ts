// The process that starts the finds (collectors/walk/find-spawner.ts): finds started there give
// what finds started here give, their output comes straight over the socket pair, their stderr,
// exit and kill over its channel, and when it dies its finds are named lost and later ones start here.
import assert from 'node:assert/strict';
import { linkSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findSpawnerPid, prepareFindSpawner, startFind, type FindChild } from '../../collectors/walk/find-spawner.js';
import { findInto } from '../../collectors/walk/find-walk.js';
import { TreeTally } from '../../collectors/walk/tally.js';

/** Everything a find gave: its output, its stderr, how it ended, and any error. */
function collect(c: FindChild): Promise<{ out: string; err: string; code: number | null; signal: string | null; errors: string[] }> {
  return new Promise((resolve) => {
    let out = '';
    let err = '';
    const errors: string[] = [];
    c.stdout.on('data', (b: Buffer) => (out += b.toString()));
    c.stdout.resume();
    c.onStderr((t) => (err += t));
    c.onError((e) => errors.push(e.message));
    c.onClose((code, signal) => resolve({ out, err, code, signal, errors }));
  });
}

describe('find spawner', function () {
  this.timeout(60_000);
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'layerdu-spawner-'));
    for (let d = 0; d < 50; d++) {
      mkdirSync(join(tmp, 'tree', `d${d}`), { recursive: true });
      for (let f = 0; f < 40; f++) writeFileSync(join(tmp, 'tree', `d${d}`, `f${f}`), 'x'.repeat(f * 100));
    }
    linkSync(join(tmp, 'tree', 'd0', 'f1'), join(tmp, 'tree', 'd1', 'again'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('walks to the same tally, index and problems as a find started here', async () => {
    const walk = async () => {
      const tally = new TreeTally(true);
      await findInto([join(tmp, 'tree'), join(tmp, 'gone')], tally);
      return tally.outcome();
    };
    const here = await walk();
    prepareFindSpawner();
    assert.ok((await findSpawnerPid()) !== null, 'the spawner runs');
    const there = await walk();
    assert.equal(there.size.entries, 1 + 50 + 2000); // the second link is no second entry
    assert.equal(there.problems.length, 1, 'the missing root, from find’s stderr');
    assert.deepEqual(there, here);
  });

  it('starts finds in the spawner, and brings back their output, stderr and exit status', async () => {
    const pid = await findSpawnerPid();
    const r = await collect(await startFind(['sh', '-c', 'echo $PPID; echo said >&2; exit 3']));
    assert.deepEqual(r, { out: `${pid}\n`, err: 'said\n', code: 3, signal: null, errors: [] });
  });

  it('kills a find it started', async () => {
    const c = await startFind(['sleep', '30']);
    const done = collect(c);
    c.kill();
    const r = await done;
    assert.equal(r.signal, 'SIGTERM');
  });

  it('a program that cannot start is an error, and the close follows', async () => {
    const r = await collect(await startFind(['/nonexistent/find']));
    assert.equal(r.errors.length, 1);
    assert.match(r.errors[0]!, /ENOENT/);
  });

  it('dies: the find it ran is named lost, and later finds start here', async () => {
    const pid = (await findSpawnerPid())!;
    const c = await startFind(['sleep', '2']);
    const done = collect(c);
    process.kill(pid, 'SIGKILL');
    const r = await done;
    assert.equal(r.errors.length, 1);
    assert.match(r.errors[0]!, /find lost/);
    assert.equal(await findSpawnerPid(), null);
    const after = await collect(await startFind(['sh', '-c', 'echo $PPID']));
    assert.equal(after.out, `${process.pid}\n`);
  });
});
