// The index streamed from a walker process (walk-child.ts → walk-pool.ts) on a tree of more than
// two chunks of entries (collectors/lib/path-index.ts, INDEX_CHUNK): the same index, path by path,
// as GNU find's and the inline Node walker's; a walker process whose agent does not read waits
// for it mid-walk instead of queueing the index in its memory; a walker process killed in the
// middle of its stream fails that walk alone, cleanly, the next one whole; idle ones leave.
import assert from 'node:assert/strict';
import { closeSync, linkSync, mkdirSync, mkdtempSync, openSync, readFileSync, readlinkSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Problem } from '../../collectors/lib/facts.js';
import { type PathIndex } from '../../collectors/lib/path-index.js';
import { INDEX_CHUNK } from '../../collectors/lib/path-index-builder.js';
import { findSpawnerPid } from '../../collectors/walk/find-spawner.js';
import { gnuFindAvailable } from '../../collectors/walk/find-walk.js';
import { walkYieldingInto } from '../../collectors/walk/node-walk.js';
import { TreeTally } from '../../collectors/walk/tally.js';
import { walkTree } from '../../collectors/walk/walk-tree.js';
import { childPids } from '../bench/lock.js';
import { byPath } from '../support/index-compare.js';
import { withWalker } from '../support/walker-env.js';

const DIRS = 141;
const PER_DIR = 1000;
const LINKS = 40;

/** DIRS directories of PER_DIR files (every 7th one byte), one file hardlinked into LINKS of them. */
function makeTree(root: string): void {
  mkdirSync(root);
  const one = Buffer.from('x');
  for (let d = 0; d < DIRS; d++) {
    const dir = join(root, `d${d}`);
    mkdirSync(dir);
    for (let f = 0; f < PER_DIR; f++) {
      const fd = openSync(join(dir, `f${f}`), 'w');
      if (f % 7 === 0) writeSync(fd, one);
      closeSync(fd);
    }
  }
  for (let l = 0; l < LINKS; l++) linkSync(join(root, 'd0', 'f0'), join(root, `d${Math.floor((l * DIRS) / LINKS)}`, `link${l}`));
}

/** This process's walker processes (walk-child.js) by pid. */
/** Walker processes of the pool: the find spawner (a walker process too) stays, and is left out. */
async function walkerPids(): Promise<number[]> {
  const spawner = await findSpawnerPid();
  return childPids().filter((pid) => {
    if (pid === spawner) return false;
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('walk-child');
    } catch {
      return false;
    }
  });
}

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime
}

function cwdOf(pid: number): string {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return '';
  }
}

async function walkWith(walker: 'find' | 'node', root: string): Promise<{ index: PathIndex | null; problems: Problem[]; entries: number }> {
  return withWalker(walker, async () => {
    const problems: Problem[] = [];
    const { index, size } = await walkTree(root, { problems, index: true });
    return { index, problems, entries: size.entries };
  });
}

describe('the index streamed from walker processes, past two chunks', function () {
  this.timeout(300_000);
  let base: string;
  let root: string;
  before(async () => {
    assert.ok(await gnuFindAvailable(), 'GNU find is on this machine (findutils)');
    base = mkdtempSync(join(tmpdir(), 'layerdu-stream-'));
    root = join(base, 'tree');
    makeTree(root);
  });
  after(() => {
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it('a walker process waits mid-walk while the agent does not read; killed then, that walk is one problem and the next is whole', async () => {
    const problems: Problem[] = [];
    let walk: Promise<unknown> = Promise.resolve();
    await withWalker('node', async () => {
      walk = walkTree(root, { problems, index: true });
      await new Promise((r) => setTimeout(r, 20)); // the job is sent
    });
    // Hold this thread (the agent reading nothing) until the walker in the tree stops using CPU.
    const deadline = Date.now() + 60_000;
    let pid = 0;
    let last = 0;
    let still = 0;
    while (Date.now() < deadline && (pid === 0 || Date.now() - still < 500)) {
      if (pid === 0) {
        pid = (await walkerPids()).find((p) => cwdOf(p).startsWith(`${root}/`)) ?? 0;
        if (pid) [last, still] = [cpuTicks(pid), Date.now()];
        continue;
      }
      const t = cpuTicks(pid);
      if (t !== last) [last, still] = [t, Date.now()];
    }
    assert.ok(pid, 'a walker process walks the tree');
    const cwd = cwdOf(pid);
    // Done, it would be back in '/'; waiting to send, it is still in a directory of the tree.
    assert.ok(cwd.startsWith(`${root}/`), `the walker waits in the middle of its walk (cwd ${cwd})`);
    process.kill(pid, 'SIGKILL');
    const out = (await walk) as { index: PathIndex | null };
    assert.equal(out.index, null);
    assert.equal(problems.length, 1, JSON.stringify(problems));
    assert.match(problems[0]!.message, /^walker failed: walker process exited \(SIGKILL\)$/);
    assert.equal(problems[0]!.path, root);

    const again = await walkWith('node', root);
    assert.deepEqual(again.problems, []);
    assert.equal(again.index!.count, DIRS * (PER_DIR + 1) + LINKS);
  });

  it('find, walker processes and the Node walker inline give the same index, path by path', async () => {
    const entries = DIRS * (PER_DIR + 1) + LINKS;
    assert.ok(entries > 2 * INDEX_CHUNK, `${entries} entries: past two chunks`);
    const viaFind = await walkWith('find', root);
    const viaProcesses = await walkWith('node', root);
    const inline = await walkYieldingInto(root, { index: true }, new TreeTally(true));
    for (const [name, w] of [
      ['find', viaFind],
      ['walker processes', viaProcesses],
      ['inline', inline],
    ] as const) {
      assert.deepEqual(w.problems, [], name);
      assert.equal(w.index!.count, entries, name);
      assert.equal(w.index!.linked.length, LINKS + 1, `${name}: every hardlinked path`);
    }
    const f = byPath(viaFind.index!);
    for (const o of [viaProcesses.index!, inline.index!]) {
      const b = byPath(o);
      assert.deepEqual(b.paths, f.paths);
      assert.deepEqual(b.inodes, f.inodes);
    }
    assert.equal(viaProcesses.entries, viaFind.entries);
  });

  it('walker processes leave once idle (250 ms after their last walk)', async () => {
    await walkWith('node', root);
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(await walkerPids(), []);
    const again = await walkWith('node', join(root, 'd1'));
    assert.deepEqual(again.problems, []);
    assert.equal(again.index!.count, PER_DIR, 'a new one walks the next');
  });
});
