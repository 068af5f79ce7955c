// The process that starts the finds (collectors/walk/find-spawner.ts): finds started there give
// what finds started here give, their output comes straight over the socket pair, their stderr,
// exit and kill over its channel, and when it dies its finds are named lost and later ones start here.
// A one-off report uses none: its finds are its own children.
import assert from 'node:assert/strict';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findSpawnerPid, prepareFindSpawner, startFind, type FindChild } from '../../collectors/walk/find-spawner.js';
import { findInto } from '../../collectors/walk/find-walk.js';
import { TreeTally } from '../../collectors/walk/tally.js';
import type { Report } from '../../agent/model/report.js';
import { CLI, duB1, runReport } from '../support/oracles.js';

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

describe('a one-off report', function () {
  this.timeout(60_000);
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'layerdu-report-finds-'));
    const root = join(tmp, 'docker');
    mkdirSync(join(root, 'image', 'overlay2', 'layerdb', 'sha256'), { recursive: true });
    // A layer directory no metadata names (an orphan), big enough to go to find.
    const diff = join(root, 'overlay2', 'a'.repeat(64), 'diff');
    mkdirSync(diff, { recursive: true });
    for (let f = 0; f < 400; f++) writeFileSync(join(diff, `f${f}`), 'x');
    // find, as the report finds it on its PATH: notes who started it, then is GNU find.
    mkdirSync(join(tmp, 'bin'));
    writeFileSync(join(tmp, 'bin', 'find'), `#!/bin/sh\ntr '\\0' ' ' < /proc/$PPID/cmdline >> ${join(tmp, 'parents')}\necho >> ${join(tmp, 'parents')}\nexec /usr/bin/find "$@"\n`, { mode: 0o755 });
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('starts its finds itself, with no spawner', async () => {
    const r = await runReport<Report>(['--format', 'json', '--no-cache', '--docker-root', join(tmp, 'docker'), '--docker-host', 'unix:///nonexistent.sock'], {
      env: { PATH: `${join(tmp, 'bin')}:${process.env.PATH}` },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json!.orphans.length, 1, JSON.stringify(r.json!.orphans));
    const disk = await duB1(join(tmp, 'docker', 'overlay2', 'a'.repeat(64)));
    assert.deepEqual([r.json!.orphans[0]!.disk, r.json!.orphans[0]!.apparent], [disk, 400], 'du -sB1; one byte a file');
    const parents = readFileSync(join(tmp, 'parents'), 'utf8').trim().split('\n');
    assert.ok(parents.length >= 2, 'the probe and at least one walk');
    for (const p of parents) assert.ok(p.includes(`${CLI} --report `), `started by the report, not by ${p}`);
  });
});
