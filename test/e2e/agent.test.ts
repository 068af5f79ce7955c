// The agent against a real daemon: every contract metric mirrors the JSON report, removed objects
// lose their series, unchanged layers are not walked again, TLS and basic auth, signals. (The
// flags, which need no daemon, are in test/integration/cli-flags.test.ts.)
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import type { Report } from '../../agent/model/report.js';
import { get, parseExposition, pick, startAgent, value, type AgentProcess } from '../support/agent-process.js';
import { SERVER_LIMITS } from '../../agent/serve/server.js';
import { rawRequest, slowloris } from '../support/http-clients.js';
import { makeBaseImage, startDaemon, type Daemon } from '../support/dockerd.js';
import { mountOf } from '../support/fixture-host.js';
import { duB1, runReport } from '../support/oracles.js';

const CONTRACT_METRICS = [
  'layerdu_image_bytes',
  'layerdu_image_apparent_bytes',
  'layerdu_layer_bytes',
  'layerdu_image_layer_info',
  'layerdu_layer_images',
  'layerdu_container_bytes',
  'layerdu_container_copied_up_bytes',
  'layerdu_wasted_bytes',
  'layerdu_orphan_bytes',
  'layerdu_volume_bytes',
  'layerdu_host_bytes',
  'layerdu_naive_virtual_bytes',
  'layerdu_storage_driver_info',
  'layerdu_host_info',
  'layerdu_dtype_supported',
  'layerdu_vfs_fallback',
  'layerdu_vfs_duplicate_bytes',
  'layerdu_filesystem_size_bytes',
  'layerdu_filesystem_avail_bytes',
  'layerdu_scan_duration_seconds',
  'layerdu_last_scan_timestamp_seconds',
  'layerdu_scan_success',
  'layerdu_collector_success',
  'layerdu_collector_duration_seconds',
  'layerdu_docker_api_up',
];

const EVERY_2S = '*/2 * * * * *';

async function build(d: Daemon, tag: string, dockerfile: string): Promise<string> {
  await d.docker(['build', '-q', '-t', tag, '-'], { input: dockerfile, env: { DOCKER_BUILDKIT: '0' } });
  return (await d.docker(['image', 'inspect', '--format', '{{.Id}}', tag])).trim();
}

const lastScan = (text: string) => value(parseExposition(text), 'layerdu_last_scan_timestamp_seconds');

describe('agent: /metrics against a real daemon', function () {
  let d: Daemon;
  let agent: AgentProcess;
  let keepId: string;
  let goneId: string;
  let goneContainer: string;
  let keepContainer: string;
  let leaked: string;

  before(async function () {
    this.timeout(300_000);
    d = await startDaemon();
    await makeBaseImage(d);
    keepId = await build(d, 'keep:1', 'FROM base\nRUN head -c 1048576 /dev/urandom > /k\n');
    goneId = await build(d, 'gone:1', 'FROM base\nRUN head -c 524288 /dev/urandom > /g\n');
    await d.docker(['volume', 'create', 'vol1']);
    keepContainer = (await d.docker(['create', '--network=none', '--name', 'c-keep', '-v', 'vol1:/v', 'keep:1', 'sh', '-c', 'head -c 100000 /dev/zero > /v/x; echo x >> /k; echo done'])).trim();
    await d.docker(['start', '-a', keepContainer]);
    goneContainer = (await d.docker(['create', '--network=none', '--name', 'c-gone', 'gone:1', 'true'])).trim();
    leaked = join(d.root, 'overlay2', randomBytes(32).toString('hex'));
    await mkdir(join(leaked, 'diff'), { recursive: true });
    await writeFile(join(leaked, 'diff', 'junk'), randomBytes(65536));
    agent = await startAgent(['--docker-root', d.root, '--docker-host', d.host, '--scan.schedule', EVERY_2S]);
  });

  after(async function () {
    this.timeout(120_000);
    await agent?.stop();
    await d?.stop();
  });

  it('serves every contract metric, each equal to the JSON report, and promtool finds nothing', async function () {
    this.timeout(180_000);
    const text = await agent.scrapeAfter(0);
    const s = parseExposition(text);
    for (const name of CONTRACT_METRICS) assert.ok(s.some((x) => x.name === name), `${name} is missing`);

    const run = await runReport<Report>(['--format', 'json', '--docker-root', d.root, '--docker-host', d.host]);
    assert.equal(run.code, 0, run.stderr);
    const r = run.json!;
    assert.deepEqual(
      { images: r.images.length, containers: r.containers.length, orphans: r.orphans.length },
      { images: 3, containers: 2, orphans: 1 },
      'fixture as built: base, keep:1, gone:1; c-keep, c-gone; the leak',
    );

    for (const i of r.images) {
      const image = i.tags[0] ?? '<none>';
      for (const scope of ['shared', 'unique'] as const) {
        assert.equal(value(s, 'layerdu_image_bytes', { image_id: i.id, image, scope }), i.disk[scope], `${image} ${scope}`);
        assert.equal(value(s, 'layerdu_image_apparent_bytes', { image_id: i.id, image, scope }), i.apparent[scope]);
      }
      assert.equal(value(s, 'layerdu_wasted_bytes', { image_id: i.id, image }), i.wasted.disk);
      assert.deepEqual(
        pick(s, 'layerdu_image_layer_info', { image_id: i.id }).sort((a, b) => Number(a.labels.position) - Number(b.labels.position)).map((x) => x.labels.chain_id),
        i.layers,
      );
    }
    assert.equal(pick(s, 'layerdu_image_bytes').length, r.images.length * 2);
    for (const l of r.layers) {
      assert.equal(value(s, 'layerdu_layer_bytes', { chain_id: l.chainId, cache_id: l.cacheId ?? '' }), l.disk);
      assert.equal(value(s, 'layerdu_layer_images', { chain_id: l.chainId }), l.images.length);
    }
    for (const c of r.containers) {
      const labels = { container_id: c.id, name: c.name, image_id: c.imageId };
      assert.equal(value(s, 'layerdu_container_bytes', { ...labels, scope: 'writable' }), c.writable.disk);
      assert.equal(value(s, 'layerdu_container_bytes', { ...labels, scope: 'init' }), c.init.disk);
      assert.equal(value(s, 'layerdu_container_bytes', { ...labels, scope: 'logs' }), c.logs);
      assert.equal(value(s, 'layerdu_container_copied_up_bytes', { container_id: c.id, name: c.name }), c.copiedUp.disk);
    }
    const keep = r.containers.find((c) => c.id === keepContainer)!;
    // Appending to /k copied the 1 MiB file up (/v, the volume's mountpoint, is new, not copied up).
    const upper = join(d.root, 'overlay2', (await mountOf(d.root, keepContainer)).mountId, 'diff');
    assert.equal(keep.copiedUp.apparent, 1048576 + 2, '/k and "x\\n"');
    assert.equal(keep.copiedUp.disk, await duB1(join(upper, 'k')), 'copiedUp.disk vs du -sB1 of the copied-up /k');
    for (const o of r.orphans) assert.equal(value(s, 'layerdu_orphan_bytes', { id: o.id }), o.disk);
    assert.equal(r.orphans[0]!.path, leaked);
    for (const v of r.volumes) assert.equal(value(s, 'layerdu_volume_bytes', { name: v.name }), v.disk);
    const cats = { image_layers: 'imageLayers', container_layers: 'containerLayers', volumes: 'volumes', logs: 'logs', build_cache: 'buildCache', orphans: 'orphans' } as const;
    for (const [category, key] of Object.entries(cats)) assert.equal(value(s, 'layerdu_host_bytes', { category }), r.totals.disk[key], category);
    assert.equal(value(s, 'layerdu_naive_virtual_bytes'), r.totals.naiveVirtual);
    assert.equal(value(s, 'layerdu_storage_driver_info', { driver: r.driver.name, backing_fs: r.driver.backingFs ?? '', docker_root: d.root }), 1);
    assert.equal(value(s, 'layerdu_dtype_supported'), r.driver.dType ? 1 : 0);
    assert.equal(value(s, 'layerdu_vfs_fallback'), r.driver.vfsFallback ? 1 : 0);
    assert.equal(value(s, 'layerdu_vfs_duplicate_bytes'), r.driver.vfsDuplicateBytes ?? 0);
    const fs = r.filesystem!;
    assert.equal(value(s, 'layerdu_filesystem_size_bytes', { mountpoint: fs.mountpoint, fstype: fs.fstype }), fs.size);
    // Free space moves with everything else on the machine; the two readings are seconds apart.
    assert.ok(Math.abs(value(s, 'layerdu_filesystem_avail_bytes', { mountpoint: fs.mountpoint, fstype: fs.fstype }) - fs.avail) < 256 * 1048576);
    assert.equal(value(s, 'layerdu_docker_api_up'), 1);
    assert.equal(value(s, 'layerdu_scan_success'), 1);
    for (const c of r.scan.collectors) assert.equal(value(s, 'layerdu_collector_success', { collector: c.name }), 1, c.name);
    // The agent's own scan, not the report's: how long it took is not known, only that it took time.
    assert.ok(value(s, 'layerdu_scan_duration_seconds') > 0);
    assert.ok(pick(s, 'process_resident_memory_bytes').length === 1, 'process metrics are served');

    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(promtool.status, 0, promtool.stdout + promtool.stderr);
    assert.equal((promtool.stdout + promtool.stderr).trim(), '');
  });

  it('a second scan of an unchanged host walks no image layer', async function () {
    this.timeout(60_000);
    const first = await agent.scrapeAfter(0);
    const text = await agent.scrapeAfter(lastScan(first));
    const s = parseExposition(text);
    assert.equal(value(s, 'layerdu_scan_layers_walked'), 0);
    assert.equal(value(s, 'layerdu_scan_layers_reused'), pick(s, 'layerdu_layer_bytes').length);
  });

  it('drops the series of a removed image and container at the next scan', async function () {
    this.timeout(120_000);
    const before = parseExposition(await agent.scrapeAfter(0));
    assert.equal(pick(before, 'layerdu_image_bytes', { image_id: goneId }).length, 2);
    assert.equal(pick(before, 'layerdu_container_bytes', { container_id: goneContainer }).length, 3);
    await d.docker(['rm', goneContainer]);
    await d.docker(['rmi', 'gone:1']);
    const removedAt = Date.now() / 1000;
    // A scan that finished after the removal may have read the disk before it: the one after it began later.
    const after = parseExposition(await agent.scrapeAfter(lastScan(await agent.scrapeAfter(removedAt))));
    assert.equal(pick(after, 'layerdu_image_bytes', { image_id: goneId }).length, 0);
    assert.equal(pick(after, 'layerdu_wasted_bytes', { image_id: goneId }).length, 0);
    assert.equal(pick(after, 'layerdu_image_layer_info', { image_id: goneId }).length, 0);
    assert.equal(pick(after, 'layerdu_container_bytes', { container_id: goneContainer }).length, 0);
    assert.equal(pick(after, 'layerdu_container_copied_up_bytes', { container_id: goneContainer }).length, 0);
    assert.equal(pick(after, 'layerdu_image_bytes', { image_id: keepId }).length, 2, 'the others stay');
  });

  it('a writable layer of hundreds of files, written between scans, is measured anew each scan and equals du', async function () {
    // Past 256 entries the find spawner walks it, and from its second walk on with what it
    // listed (collectors/walk/listings.ts): each start adds a file and grows another by 1 MiB,
    // and copies one more file of the image up.
    this.timeout(180_000);
    const run = 'mkdir -p /w; i=0; while [ $i -lt 400 ]; do [ -e /w/f$i ] || echo $i > /w/f$i; i=$((i+1)); done; head -c 1048576 /dev/zero >> /w/grow; touch /w/n$(date +%s%N); echo more >> /k';
    const id = (await d.docker(['create', '--network=none', '--name', 'c-many', 'keep:1', 'sh', '-c', run])).trim();
    const upper = (await d.docker(['inspect', '--format', '{{.GraphDriver.Data.UpperDir}}', id])).trim();
    const measured = async () => {
      const at = Date.now() / 1000;
      // The scan that finished after the write may have read the disk before it: the next one.
      const s = parseExposition(await agent.scrapeAfter(lastScan(await agent.scrapeAfter(at))));
      return { writable: value(s, 'layerdu_container_bytes', { container_id: id, name: 'c-many', image_id: keepId, scope: 'writable' }), du: await duB1(upper) };
    };
    const seen: number[] = [];
    for (let start = 0; start < 3; start++) {
      await d.docker(['start', '-a', id]);
      const m = await measured();
      assert.equal(m.writable, m.du, `after start ${start + 1}: the agent's writable bytes are du's`);
      seen.push(m.writable);
    }
    assert.ok(seen[1]! >= seen[0]! + 1048576 && seen[2]! >= seen[1]! + 1048576, `each start grows it by 1 MiB at least: ${seen.join(', ')}`);
    // Unchanged now: one scan more gives the same figure, and the one-off report agrees.
    const again = await measured();
    assert.equal(again.writable, seen[2]);
    const r = await runReport<Report>(['--format', 'json', '--docker-root', d.root, '--docker-host', d.host, '--no-cache']);
    assert.equal(r.json!.containers.find((c) => c.id === id)!.writable.disk, seen[2]);
    await d.docker(['rm', id]);
  });

  it('/healthz and the landing page answer during and between scans', async () => {
    const h = await get(`${agent.url}/healthz`);
    assert.equal(h.status, 200);
    assert.equal(JSON.parse(h.body).status, 'ok');
    const l = await get(`${agent.url}/`);
    assert.equal(l.status, 200);
    assert.match(l.body, /href="\/metrics"/);
    assert.equal((await get(`${agent.url}/nope`)).status, 404);
  });

  it('exits 0 within 5 s of SIGTERM', async function () {
    this.timeout(30_000);
    const a = await startAgent(['--docker-root', d.root, '--docker-host', d.host]);
    await a.scrapeAfter(0);
    const { code, ms } = await a.stop('SIGTERM');
    assert.equal(code, 0, a.stderr());
    assert.ok(ms < 5000, `took ${ms} ms`);
  });

  it('serves TLS with basic auth from an exporter-toolkit web config, its limits holding', async function () {
    this.timeout(60_000);
    const dir = await mkdtemp(join(tmpdir(), 'ldu-web-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
      const hash = bcrypt.hashSync('s3cret', 10);
      await writeFile(join(dir, 'web.yml'), `tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\nbasic_auth_users:\n  prom: ${hash}\n`);
      const ca = await readFile(join(dir, 'cert.pem'));
      const a = await startAgent(['--docker-root', d.root, '--docker-host', d.host, '--web.config.file', join(dir, 'web.yml')], { https: true, auth: 'prom:s3cret', ca });
      try {
        await a.scrapeAfter(0);
        assert.equal((await get(`${a.url}/metrics`, { ca })).status, 401);
        assert.equal((await get(`${a.url}/metrics`, { ca, auth: 'prom:wrong' })).status, 401);
        assert.equal((await get(`${a.url}/metrics`, { ca, auth: 'nobody:s3cret' })).status, 401);
        const ok = await get(`${a.url}/metrics`, { ca, auth: 'prom:s3cret' });
        assert.equal(ok.status, 200);
        assert.match(ok.body, /^layerdu_host_bytes\{category="image_layers"\} \d+$/m);
        // The server's limits hold over TLS: a slowloris is cut off at the headers timeout (5 s)
        // while scrapes are served, a body over 1 MiB is 413, other paths 404, other methods 405.
        const port = Number(new URL(a.url).port);
        const slow = slowloris(port, { byteEveryMs: 500, tls: { ca } });
        for (let i = 0; i < 5; i++) assert.equal((await get(`${a.url}/metrics`, { ca, auth: 'prom:s3cret' })).status, 200);
        const cut = await slow;
        assert.ok(cut.closedAfterMs >= SERVER_LIMITS.headersTimeoutMs && cut.closedAfterMs < SERVER_LIMITS.headersTimeoutMs + 3000, `slowloris closed after ${cut.closedAfterMs} ms`);
        const authz = { Authorization: `Basic ${Buffer.from('prom:s3cret').toString('base64')}` };
        assert.equal((await rawRequest(port, { tls: { ca }, method: 'POST', path: '/metrics', headers: { ...authz, 'Content-Length': String(2 << 20) } })).status, 413);
        assert.equal((await rawRequest(port, { tls: { ca }, method: 'POST', path: '/metrics', headers: authz })).status, 405);
        assert.equal((await get(`${a.url}/nope`, { ca, auth: 'prom:s3cret' })).status, 404);
      } finally {
        await a.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
