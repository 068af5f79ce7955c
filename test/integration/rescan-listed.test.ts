// The agent's scans of a staged docker root (test/support/fake-host.ts), one after another with
// the memo the agent keeps (agent/scan/walk-dirs.ts's ListingsMemo): writable layers of a few
// hundred files are walked by the find spawner with what it listed the last time, the scan
// begins those walks before its metadata names them, and every figure is the one a scan without
// any memo gives, through growth, new files and a container removed between scans.
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Report } from '../../agent/model/report.js';
import { scan } from '../../agent/scan/scan.js';
import type { ListingsMemo } from '../../agent/scan/walk-dirs.js';
import { hostPaths } from '../../collectors/host/paths.js';
import { writeFakeHost, type FakeHost } from '../support/fake-host.js';

/** What a scan says of each container's writable layer, and its errors. */
function writable(r: Report): { byId: Record<string, { disk: number; apparent: number }>; errors: string[] } {
  return {
    byId: Object.fromEntries(r.containers.map((c) => [c.id, { disk: c.writable.disk, apparent: c.writable.apparent }])),
    errors: r.errors.filter((e) => e.source !== 'docker-api').map((e) => `${e.source}: ${e.path ?? ''}: ${e.message}`),
  };
}

describe('agent rescans with listed walks (staged root)', function () {
  this.timeout(120_000);
  let host: FakeHost;
  const upper = (c: number) => join(host.root, 'overlay2', readFileSync(join(host.root, 'image', 'overlay2', 'layerdb', 'mounts', host.containerIds[c]!, 'mount-id'), 'utf8'), 'diff');
  const memo: ListingsMemo = { scan: 0, current: new Map() };
  const opts = () => ({ dockerRoot: host.root, dockerHost: 'unix:///nonexistent.sock', host: hostPaths() });
  const withMemo = async () => writable(await scan({ ...opts(), layerCache: new Map(), listings: memo }));
  const fresh = async () => writable(await scan(opts()));

  before(async () => {
    host = await writeFakeHost(await mkdtemp(join(tmpdir(), 'layerdu-rescan-')), { images: 2, containers: 3 });
    // Containers 0 and 1 wrote a few hundred files each: past what a scan walks on its own thread.
    for (const c of [0, 1]) {
      for (let d = 0; d < 20; d++) {
        mkdirSync(join(upper(c), 'app', `d${d}`), { recursive: true });
        for (let f = 0; f < 15; f++) writeFileSync(join(upper(c), 'app', `d${d}`, `f${f}`), 'x'.repeat(100 * f));
      }
    }
    // Older than a listing's margin by the first scan: from the second on, listings stand in for them.
    await new Promise((r) => setTimeout(r, 1200));
  });
  after(() => rmSync(host.root, { recursive: true, force: true }));

  it('gives every scan the figures of a scan without memo, the listed trees remembered', async () => {
    const first = await withMemo();
    assert.deepEqual(first, await fresh());
    assert.deepEqual([...memo.current.entries()].map(([p, t]) => [p, t.how]).sort(), [[upper(0), 'listed'], [upper(1), 'listed']].sort());
    const second = await withMemo();
    assert.deepEqual(second, first, 'unchanged');

    appendFileSync(join(upper(0), 'app', 'd3', 'f2'), 'y'.repeat(100_000));
    writeFileSync(join(upper(0), 'app', 'd7', 'new'), 'new');
    mkdirSync(join(upper(1), 'app', 'd9', 'deeper'));
    writeFileSync(join(upper(1), 'app', 'd9', 'deeper', 'more'), 'more');
    const third = await withMemo();
    assert.deepEqual(third, await fresh());
    assert.ok(third.byId[host.containerIds[0]!]!.apparent >= first.byId[host.containerIds[0]!]!.apparent + 100_003);
  });

  it('drops the walk begun early of a container removed since: no error for it, no memo of it', async () => {
    await withMemo();
    const gone = host.containerIds[1]!;
    const goneUpper = upper(1);
    const mount = join(host.root, 'image', 'overlay2', 'layerdb', 'mounts', gone);
    const mountId = readFileSync(join(mount, 'mount-id'), 'utf8');
    for (const p of [join(host.root, 'containers', gone), mount, join(host.root, 'overlay2', mountId), join(host.root, 'overlay2', `${mountId}-init`)]) rmSync(p, { recursive: true });
    const after = await withMemo();
    assert.deepEqual(after, await fresh());
    assert.equal(after.byId[gone], undefined);
    assert.deepEqual(after.errors, []);
    assert.ok(!memo.current.has(goneUpper));
    assert.ok(memo.current.has(upper(0)));
  });
});
