// A docker root that holds no image store yet (a daemon that never started, or a wrong
// --docker-root): the report still comes out, says so, and counts what is there.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Report } from '../../agent/model/report.js';
import { duB1, lines, runReport } from '../support/oracles.js';

describe('a docker root with no image store', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ldu-empty-'));
    await mkdir(path.join(dir, 'network', 'files'), { recursive: true });
    await writeFile(path.join(dir, 'network', 'files', 'local-kv.db'), Buffer.alloc(10_000, 1));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('is reported as no store, with every byte as other, and only the API named', async () => {
    const r = await runReport<Report>(['--format', 'json', '--docker-root', dir, '--docker-host', 'unix:///nonexistent.sock']);
    assert.equal(r.code, 0, r.stderr);
    const j = r.json!;
    assert.equal(j.driver.name, 'unknown');
    assert.equal(j.driver.reason, `No image store was found under ${dir}, and the Docker API did not name a storage driver.`);
    assert.deepEqual([j.images, j.layers, j.containers, j.volumes, j.orphans], [[], [], [], [], []]);
    assert.equal(j.totals.disk.total, await duB1(dir));
    assert.equal(j.totals.disk.other, j.totals.disk.total);
    assert.equal(j.totals.apparent.other, 10_000);
    assert.deepEqual(j.errors.map((e) => e.source), ['docker-api']);
    assert.equal(lines(r.stderr).length, 1, r.stderr);
  });
});
