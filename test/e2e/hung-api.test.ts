// A Docker API that accepts the connection and never answers (a hung daemon, common when the disk
// is full): the report waits only --docker-timeout, says so once, and every figure still comes.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Report } from '../../agent/model/report.js';
import { getFixture } from '../support/fixture-host.js';
import { lines, runReport } from '../support/oracles.js';

describe('layerdu --report with a hung Docker API', () => {
  const sock = join(tmpdir(), `ldu-hung-${process.pid}.sock`);
  let server: net.Server;
  const held: net.Socket[] = [];

  before(async () => {
    server = net.createServer((s) => held.push(s));
    await new Promise<void>((resolve) => server.listen(sock, resolve));
  });
  after(async () => {
    for (const s of held) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(sock, { force: true });
  });

  it('gives up after --docker-timeout, names it once, and reports the same figures as with the API', async function () {
    this.timeout(300_000);
    const f = await getFixture();
    const up = await runReport<Report>(['--format', 'json', '--docker-root', f.root, '--docker-host', f.host]);
    const start = performance.now();
    const hung = await runReport<Report>(['--format', 'json', '--docker-root', f.root, '--docker-host', `unix://${sock}`, '--docker-timeout', '2']);
    const seconds = (performance.now() - start) / 1000;
    assert.equal(hung.code, 0, hung.stderr);
    // How many connections the client opens for its requests (one each, or pooled) is dockerode's
    // business: that it reached the socket at all is the point.
    assert.ok(held.length >= 1, 'the client did connect');
    assert.ok(seconds < 20, `took ${seconds} s`);
    assert.equal(hung.json!.apiUp, false);
    const apiLines = lines(hung.stderr).filter((l) => /docker-api/.test(l));
    assert.equal(apiLines.length, 1, hung.stderr);
    assert.match(apiLines[0]!, /no answer within 2000 ms/);
    assert.deepEqual(hung.json!.layers, up.json!.layers);
    assert.deepEqual(hung.json!.images, up.json!.images);
    assert.deepEqual(hung.json!.totals, up.json!.totals);
  });
});
