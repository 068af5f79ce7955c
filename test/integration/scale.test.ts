// Many objects and damaged ones, on docker roots made by the test (test/support/fake-host.ts:
// metadata and tiny overlay2 directories, no daemon), scanned with the API unreachable. Functional
// checks only; the times and sizes at 2,000 containers are `npm run bench`'s (scale-bench.ts).
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Report } from '../../agent/model/report.js';
import { OTHER } from '../../agent/render/metrics-cap.js';
import { get, parseExposition, pick, startAgent, value, type Sample } from '../support/agent-process.js';
import { PROJECTS, writeFakeHost, type FakeHost } from '../support/fake-host.js';
import { runReport } from '../support/oracles.js';

const API_DOWN = ['--docker-host', 'unix:///nonexistent.sock'];

/** Each capped gauge and the label that names its object. */
const CAPPED: [string, string][] = [
  ['layerdu_image_bytes', 'image_id'],
  ['layerdu_wasted_bytes', 'image_id'],
  ['layerdu_image_rmi_bytes', 'image_id'],
  ['layerdu_layer_bytes', 'chain_id'],
  ['layerdu_layer_images', 'chain_id'],
  ['layerdu_image_layer_info', 'image_id'],
  ['layerdu_container_bytes', 'container_id'],
  ['layerdu_container_copied_up_bytes', 'container_id'],
  ['layerdu_volume_bytes', 'name'],
  ['layerdu_owner_bytes', 'name'],
];

const sum = (s: Sample[], name: string) => pick(s, name).reduce((n, x) => n + x.value, 0);
const objects = (s: Sample[], name: string, label: string) => new Set(pick(s, name).map((x) => x.labels[label]));

describe('scale: 100 images and 200 containers made by the test, the API unreachable', function () {
  let dir: string;
  let host: FakeHost;
  let report: Report;

  before(async function () {
    this.timeout(120_000);
    dir = await mkdtemp(join(tmpdir(), 'ldu-scale-'));
    host = await writeFakeHost(join(dir, 'docker'), { images: 100, containers: 200 });
    const r = await runReport<Report>(['--format', 'json', '--docker-root', host.root, ...API_DOWN, '--metrics.max-objects', '1']);
    assert.equal(r.code, 0, r.stderr);
    report = r.json!;
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('the report lists every image, layer, container, volume and owner, whatever the cap; only the API is an error', () => {
    assert.deepEqual(report.errors.map((e) => e.source), ['docker-api']);
    assert.deepEqual(
      { images: report.images.length, layers: report.layers.length, containers: report.containers.length, volumes: report.volumes.length, owners: report.owners.length },
      { images: 100, layers: 101, containers: 200, volumes: host.volumes.length, owners: PROJECTS },
    );
    assert.deepEqual(new Set(report.images.map((i) => i.id)), new Set(host.imageIds));
    assert.deepEqual(new Set(report.containers.map((c) => c.id)), new Set(host.containerIds));
    assert.ok(report.images.every((i) => i.containers === 2 && i.layers.length === 2), 'each image: the shared base and its own layer, two containers');
    const base = report.layers.find((l) => l.chainId === host.chainIds[0])!;
    assert.equal(base.images.length, 100, 'the base layer is every image’s');
    assert.ok(report.containers.every((c) => c.writable.disk > 0 && c.logs > 0));
    assert.equal(report.orphans.length, 0, 'every layer directory is someone’s');
  });

  it('--format prom under --metrics.max-objects 50: 50 objects and _other a gauge, every sum kept, layerdu_series_capped says how many', async function () {
    this.timeout(60_000);
    const run = async (max: string) => {
      const r = await runReport(['--format', 'prom', '--docker-root', host.root, ...API_DOWN, '--metrics.max-objects', max]);
      assert.equal(r.code, 0, r.stderr);
      return { s: parseExposition(r.stdout), bytes: r.stdout.length };
    };
    const [capped, whole] = [await run('50'), await run('0')];
    for (const [name] of CAPPED) {
      assert.ok(Math.abs(sum(capped.s, name) - sum(whole.s, name)) < 1e-6, `${name}: the sum over the gauge is kept`);
    }
    assert.equal(objects(capped.s, 'layerdu_image_bytes', 'image_id').size, 51);
    assert.equal(objects(capped.s, 'layerdu_layer_bytes', 'chain_id').size, 51);
    assert.equal(objects(capped.s, 'layerdu_container_bytes', 'container_id').size, 51);
    assert.equal(objects(capped.s, 'layerdu_owner_bytes', 'name').size, PROJECTS, '50 owners: none folded');
    assert.equal(objects(whole.s, 'layerdu_container_bytes', 'container_id').size, 200);
    assert.ok(!objects(whole.s, 'layerdu_container_bytes', 'container_id').has(OTHER));
    // The biggest 50 containers keep their own series, with their own figures.
    const biggest = [...report.containers].sort((a, b) => b.writable.disk + b.init.disk + b.logs - (a.writable.disk + a.init.disk + a.logs))[49]!;
    const kept = pick(capped.s, 'layerdu_container_bytes', { scope: 'writable' }).map((x) => x.labels.container_id);
    const bytesOf = (id: string) => { const c = report.containers.find((x) => x.id === id)!; return c.writable.disk + c.init.disk + c.logs; };
    for (const id of kept) if (id !== OTHER) assert.ok(bytesOf(id!) >= bytesOf(biggest.id), `${id} kept though smaller than the 50th`);
    for (const [kind, n] of [['image', 50], ['layer', 51], ['container', 150], ['volume', 0], ['owner', 0], ['orphan', 0]] as const) {
      assert.equal(value(capped.s, 'layerdu_series_capped', { kind }), n, kind);
      assert.equal(value(whole.s, 'layerdu_series_capped', { kind }), 0, kind);
    }
    assert.ok(capped.bytes < whole.bytes / 2, `capped ${capped.bytes} B, whole ${whole.bytes} B`);
  });
});

describe('a failing collector never fails the scrape', function () {
  let dir: string;
  let host: FakeHost;

  before(async function () {
    this.timeout(60_000);
    dir = await mkdtemp(join(tmpdir(), 'ldu-failing-'));
    host = await writeFakeHost(join(dir, 'docker'), { images: 5, containers: 10 });
    // containers: one config.v2.json that is no JSON.
    await writeFile(join(host.root, 'containers', host.containerIds[3]!, 'config.v2.json'), '{"ID": "trunc');
    // layer-metadata: a layerdb entry whose diff is a directory (EISDIR); image 4's own layer.
    const entry = join(host.root, 'image', 'overlay2', 'layerdb', 'sha256', host.chainIds[5]!.slice(7));
    await rm(join(entry, 'diff'));
    await mkdir(join(entry, 'diff'));
    // volumes: volumes/ is a file.
    await rm(join(host.root, 'volumes'), { recursive: true });
    await writeFile(join(host.root, 'volumes'), 'not a directory');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('scrapes answer 200 with the failing collectors at 0 and every other series', async function () {
    this.timeout(120_000);
    const agent = await startAgent(['--docker-root', host.root, ...API_DOWN, '--scan.schedule', '*/2 * * * * *']);
    try {
      const first = await agent.scrapeAfter(0);
      // Two scans, the second after the first's problems were logged: a broken host stays served.
      const s = parseExposition(await agent.scrapeAfter(value(parseExposition(first), 'layerdu_last_scan_timestamp_seconds')));
      for (const collector of ['containers', 'layer-metadata', 'volumes']) assert.equal(value(s, 'layerdu_collector_success', { collector }), 0, collector);
      for (const collector of ['image-metadata', 'layer-walker', 'filesystem', 'storage-driver']) assert.equal(value(s, 'layerdu_collector_success', { collector }), 1, collector);
      assert.equal(value(s, 'layerdu_docker_api_up'), 0);
      assert.equal(value(s, 'layerdu_scan_success'), 0);
      assert.ok(value(s, 'layerdu_scan_errors', { collector: 'containers' }) >= 1);
      assert.equal(objects(s, 'layerdu_container_bytes', 'container_id').size, 9, 'the other nine containers');
      assert.ok(!objects(s, 'layerdu_container_bytes', 'container_id').has(host.containerIds[3]));
      assert.equal(objects(s, 'layerdu_image_bytes', 'image_id').size, 5, 'every image');
      assert.equal(pick(s, 'layerdu_volume_bytes').length, 0);
      assert.ok(value(s, 'layerdu_host_bytes', { category: 'image_layers' }) > 0);
      assert.equal((await get(`${agent.url}/healthz`)).status, 200);
      assert.match(agent.stderr(), /level=warn .*source=containers/);
    } finally {
      const { code } = await agent.stop();
      assert.equal(code, 0, agent.stderr());
    }
  });
});
