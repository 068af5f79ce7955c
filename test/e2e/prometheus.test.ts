// The dashboards and alert rules against a real Prometheus scraping real layerdu agents on three
// hosts: one overlay2 Docker daemon holding a little of everything (shared layers, waste, a
// container that copied up and logged, a volume, a leaked layer directory), one Docker daemon that
// fell back to vfs (its data root on an ext4 made without d_type), and a containerd-only Kubernetes
// node without Docker (test/support/kubernetes-pods.ts: containerd alone, its k8s.io images, the
// pod shop/web's sandbox and two containers made with ctr, their logs under a --path.rootfs prefix;
// its agent flagged as the DaemonSet runs it, the docker root missing). Every query of every
// dashboard panel must return a series for all hosts, and for one host: the Kubernetes row's for
// the node, every other for the overlay2 host. The vfs fallback must raise its alerts, and the
// node none (no Docker API down where there is no Docker). Plus Graphviz on `--report --format dot`
// of the Docker hosts. (promtool on the rules alone is in test/integration/promtool.test.ts.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse, stringify } from 'yaml';
import type { Report } from '../../agent/model/report.js';
import { DASHBOARDS as GENERATED } from '../../dashboards/src/index.js';
import { startAgent, type AgentProcess } from '../support/agent-process.js';
import { cleanupSteps } from '../support/cleanup.js';
import { mountExt4WithoutDType, type NoDTypeFs } from '../support/no-dtype-fs.js';
import { findExecutable, makeBaseImage, startDaemon, type Daemon } from '../support/dockerd.js';
import { buildClassic, readLayerDb, type FixtureImage } from '../support/fixture-host.js';
import { PODS, startKubernetesNode, type KubernetesNode } from '../support/kubernetes-pods.js';
import { REPO_ROOT, duB1, runReport } from '../support/oracles.js';
import { PROMETHEUS, panelQueries, startPrometheus, substitute, type PromAlert, type PromServer } from '../support/prometheus.js';

const DASHBOARDS = path.join(REPO_ROOT, 'dashboards');
const RULES = path.join(DASHBOARDS, 'layerdu.rules.yml');
const EVERY_2S = '*/2 * * * * *';
const MiB = 1024 * 1024;
const LEAKED_BYTES = 2 * MiB;
/** The test copy of LayerduOrphanedLayers alerts above 1 MiB instead of 1 GiB. */
const TEST_ORPHAN_THRESHOLD = MiB;
const DOT = '/usr/bin/dot';
/** The overview's row whose panels only a Kubernetes node has data for. */
const KUBERNETES_ROW = 'Kubernetes';

type DashboardJson = Parameters<typeof panelQueries>[0];

/**
 * The ids of the panels under the row titled `title`: inside it when it is collapsed, else the
 * panels after it up to the next row.
 */
function panelIdsUnderRow(dashboard: DashboardJson, title: string): Set<number> {
  const ids = new Set<number>();
  let inRow = false;
  for (const p of dashboard.panels ?? []) {
    if (p.type === 'row') {
      inRow = p.title === title;
      if (inRow) for (const q of p.panels ?? []) if (q.id !== undefined) ids.add(q.id);
    } else if (inRow && p.id !== undefined) {
      ids.add(p.id);
    }
  }
  return ids;
}

describe('Prometheus: dashboards and alerts against real agents', function () {
  this.timeout(300_000);
  let overlay: Daemon | null = null;
  let vfs: Daemon | null = null;
  let k8s: KubernetesNode | null = null;
  let work = '';
  let fs: NoDTypeFs | null = null;
  const agents: AgentProcess[] = [];
  let prom: PromServer | null = null;
  let overlayInstance = '';
  let vfsInstance = '';
  let k8sInstance = '';
  let sharedA: FixtureImage | null = null;

  before(async function () {
    if (process.getuid?.() !== 0) this.skip();
    for (const tool of [PROMETHEUS, 'dockerd', 'mkfs.ext4', 'losetup', 'busybox']) {
      assert.ok(tool.startsWith('/') ? existsSync(tool) : findExecutable(tool), `${tool} not found`);
    }
    work = await mkdtemp('/tmp/ldu-promtest-');

    // The overlay2 host, the vfs host (an ext4 without the filetype feature) and the Kubernetes
    // node (a small one: the pod shop/web), in parallel.
    const buildOverlay = async () => {
      const d = await startDaemon();
      overlay = d;
      await makeBaseImage(d, 'base:latest');
      const mid = 'FROM base:latest\nRUN head -c 1048576 /dev/urandom > /mid.bin\n';
      sharedA = await buildClassic(d, 'shared-a:latest', `${mid}RUN echo a > /a.txt\n`);
      await buildClassic(d, 'shared-b:latest', `${mid}RUN head -c 4096 /dev/urandom > /b.bin\n`);
      await buildClassic(d, 'waste:latest', 'FROM base:latest\nRUN head -c 1048576 /dev/urandom > /w.bin\nRUN rm /w.bin\n');
      await d.docker(['volume', 'create', 'ldu-vol']);
      // writes into the volume, copies /mid.bin up, writes a new file and logs 500 lines
      await d.docker([
        // a compose project of one service, so that the owner panels have data
        'run', '--network=none', '--name', 'writer', '-v', 'ldu-vol:/vol',
        '--label', 'com.docker.compose.project=promtest', '--label', 'com.docker.compose.service=writer', 'shared-a:latest',
        'sh', '-c', 'head -c 300000 /dev/urandom > /vol/v.bin && echo x >> /mid.bin && head -c 200000 /dev/urandom > /new.bin && seq 1 500',
      ]);
      const leaked = path.join(d.root, 'overlay2', randomBytes(32).toString('hex'), 'diff');
      await mkdir(leaked, { recursive: true });
      await writeFile(path.join(leaked, 'junk.bin'), randomBytes(LEAKED_BYTES));
    };
    const buildVfs = async () => {
      fs = await mountExt4WithoutDType(work, '512M');
      // No storage driver named: the daemon picks one itself and, without d_type, falls back to vfs.
      const d = await startDaemon({ dataRoot: path.join(fs.mountpoint, 'docker'), extraArgs: ['--storage-driver', ''] });
      vfs = d;
      await makeBaseImage(d, 'base:latest');
    };
    const buildNode = async () => {
      k8s = await startKubernetesNode({ pods: PODS.slice(0, 1) });
    };
    await Promise.all([buildOverlay(), buildVfs(), buildNode()]);

    for (const d of [overlay!, vfs!]) {
      agents.push(await startAgent(['--docker-root', d.root, '--docker-host', d.host, '--scan.schedule', EVERY_2S]));
    }
    agents.push(await startAgent([...k8s!.agentArgs, '--scan.schedule', EVERY_2S]));
    await Promise.all(agents.map((a) => a.scrapeAfter(0)));
    [overlayInstance, vfsInstance, k8sInstance] = agents.map((a) => new URL(a.url).host) as [string, string, string];

    // The rules as shipped, and a test copy of the orphan rule with a threshold the 2 MiB leak exceeds.
    const rules = parse(await readFile(RULES, 'utf8')) as { groups: Array<{ name: string; rules: Array<{ alert?: string; expr: string }> }> };
    const orphan = rules.groups.flatMap((g) => g.rules).find((r) => r.alert === 'LayerduOrphanedLayers');
    assert.ok(orphan && orphan.expr.includes('> 1073741824'), 'LayerduOrphanedLayers compares with 1 GiB');
    const testRules = path.join(work, 'test-thresholds.rules.yml');
    await writeFile(
      testRules,
      stringify({ groups: [{ name: 'layerdu-test-thresholds', rules: [{ ...orphan, expr: orphan.expr.replace('> 1073741824', `> ${TEST_ORPHAN_THRESHOLD}`) }] }] }),
    );
    prom = await startPrometheus({ targets: [overlayInstance, vfsInstance, k8sInstance], ruleFiles: [RULES, testRules], scrapeInterval: '1s', evaluationInterval: '1s' });

    // Wait for a few scrapes of all three (predict_linear needs two samples at least).
    const deadline = Date.now() + 60_000;
    for (;;) {
      const s = await prom.query('count_over_time(layerdu_scan_success[1m]) >= 3');
      if (s.length === agents.length) break;
      if (Date.now() > deadline) throw new Error(`Prometheus has not scraped the ${agents.length} agents 3 times: ${JSON.stringify(s)}\n${prom.log()}`);
      await sleep(500);
    }
  });

  after(async function () {
    this.timeout(180_000);
    const { attempt, done } = cleanupSteps();
    if (prom) await attempt(() => prom!.stop());
    for (const a of agents) await attempt(() => a.stop());
    if (overlay) await attempt(() => overlay!.stop());
    if (vfs) await attempt(() => vfs!.stop());
    if (k8s) await attempt(() => k8s!.node.stop());
    if (fs) await attempt(() => fs!.unmount());
    if (work) await attempt(() => rm(work, { recursive: true, force: true }));
    done();
  });

  it('scrapes the three agents and loads every rule', async () => {
    const targets = await prom!.api<{ activeTargets: Array<{ labels: Record<string, string>; health: string; lastError: string }> }>('targets');
    assert.equal(targets.activeTargets.length, 3);
    for (const t of targets.activeTargets) assert.equal(t.health, 'up', `${t.labels.instance}: ${t.lastError}`);
    const rules = await prom!.api<{ groups: Array<{ name: string; rules: Array<{ name: string; health: string; lastError?: string }> }> }>('rules');
    const groups = (parse(await readFile(RULES, 'utf8')) as { groups: Array<{ name: string; rules: Array<{ alert?: string; record?: string }> }> }).groups;
    const shipped = groups.flatMap((g) => g.rules.map((r) => r.alert ?? r.record));
    const loaded = rules.groups.filter((g) => groups.some((s) => s.name === g.name)).flatMap((g) => g.rules);
    assert.deepEqual(loaded.map((r) => r.name).sort(), shipped.sort());
    for (const r of rules.groups.flatMap((g) => g.rules)) assert.equal(r.health, 'ok', `${r.name}: ${r.lastError}`);
  });

  it('the dashboard variables find the three hosts and the fixture images', async () => {
    const instances = await prom!.api<string[]>('label/instance/values', { 'match[]': 'layerdu_scan_success' });
    assert.deepEqual(instances.sort(), [overlayInstance, vfsInstance, k8sInstance].sort());
    const images = await prom!.api<string[]>('label/image/values', { 'match[]': `layerdu_image_bytes{instance=~"${overlayInstance}"}` });
    for (const tag of ['base:latest', 'shared-a:latest', 'shared-b:latest', 'waste:latest']) assert.ok(images.includes(tag), `${tag} in ${images.join(', ')}`);
  });

  it('every query of every dashboard panel returns at least one series, for all hosts and for one (the Kubernetes row\'s for the node, the others for the overlay2 host)', async () => {
    const files = (await readdir(DASHBOARDS)).filter((f) => f.endsWith('.json')).sort();
    assert.deepEqual(files, Object.keys(GENERATED).sort(), 'every dashboard dashboards/src generates');
    const empty: string[] = [];
    let panels = 0;
    let queries = 0;
    let nodeQueries = 0;
    for (const file of files) {
      const dashboard = JSON.parse(await readFile(path.join(DASHBOARDS, file), 'utf8')) as DashboardJson;
      const qs = panelQueries(dashboard);
      const kubernetesPanels = panelIdsUnderRow(dashboard, KUBERNETES_ROW);
      if (file === 'layerdu-overview.json') assert.ok(kubernetesPanels.size > 0, `${file}: panels under the row "${KUBERNETES_ROW}"`);
      panels += new Set(qs.map((q) => q.panelId)).size;
      for (const q of qs) {
        const one = kubernetesPanels.has(q.panelId) ? k8sInstance : overlayInstance;
        if (one === k8sInstance) nodeQueries++;
        for (const instance of [one, '.*']) {
          queries++;
          const expr = substitute(q.expr, { instance, image: 'shared-a:latest', top: '10' });
          const result = q.instant ? await prom!.query(expr) : await prom!.queryRange(expr, 60, 1);
          if (result.length === 0) empty.push(`${file} #${q.panelId} "${q.panelTitle}" ${q.refId} (instance ${instance}): ${expr}`);
        }
      }
    }
    process.stdout.write(
      `      ${files.length} dashboards, ${panels} panels, ${queries} queries run (each for all hosts and for one: ` +
        `the "${KUBERNETES_ROW}" row's ${nodeQueries} for the node, the others for the overlay2 host), ${queries - empty.length} non-empty\n`,
    );
    assert.deepEqual(empty, [], `queries without a series:\n${empty.join('\n')}`);
  });

  it('the drill-down joins the sharing graph: shared-a holds base and mid, shared with shared-b', async () => {
    const dashboard = JSON.parse(await readFile(path.join(DASHBOARDS, 'layerdu-image.json'), 'utf8')) as Parameters<typeof panelQueries>[0];
    const byTitle = (t: string, ref = 'A') => panelQueries(dashboard).find((q) => q.panelTitle === t && q.refId === ref)!;
    const vars = { instance: overlayInstance, image: 'shared-a:latest' };
    const layers = await prom!.query(substitute(byTitle('Layers, bottom first', 'B').expr, vars));
    const holders = layers.map((s) => [Number(s.metric.position), Number(s.value![1])]).sort((a, b) => a[0]! - b[0]!);
    // base (in all 4 images), mid (shared-a and shared-b), a.txt (shared-a only)
    assert.deepEqual(holders, [[0, 4], [1, 2], [2, 1]]);
    const sharing = await prom!.query(substitute(byTitle('Images sharing layers with $image').expr, vars));
    const names = sharing.map((s) => s.metric.image).sort();
    assert.deepEqual(names, ['base:latest', 'shared-b:latest', 'waste:latest']);
    const common = Object.fromEntries(sharing.map((s) => [s.metric.image, Number(s.value![1])]));
    // shared-b shares the 1 MiB middle layer too: its disk bytes, as du sees that layer's diff.
    const mid = (await readLayerDb(overlay!.root)).get(sharedA!.chainIds[1]!)!;
    const midDisk = await duB1(path.join(overlay!.root, 'overlay2', mid.cacheId!, 'diff'));
    assert.equal(common['shared-b:latest'], common['base:latest']! + midDisk, 'shared-b shares base and the middle layer');
    assert.equal(common['waste:latest'], common['base:latest']);
  });

  it('raises the vfs-fallback and d_type alerts for the vfs host only, the orphan alert (test threshold) for the overlay2 host, and none of the Docker or scan alerts for the Kubernetes node', async () => {
    const want = [
      { alertname: 'LayerduVfsFallback', instance: vfsInstance },
      { alertname: 'LayerduDtypeUnsupported', instance: vfsInstance },
      { alertname: 'LayerduOrphanedLayers', instance: overlayInstance },
    ];
    let alerts: PromAlert[] = [];
    const deadline = Date.now() + 30_000;
    const found = (a: { alertname: string; instance: string }) =>
      alerts.find((x) => x.labels.alertname === a.alertname && x.labels.instance === a.instance && (x.state === 'pending' || x.state === 'firing'));
    for (;;) {
      alerts = await prom!.alerts();
      if (want.every(found)) break;
      if (Date.now() > deadline) break;
      await sleep(500);
    }
    process.stdout.write(`      alerts: ${alerts.map((a) => `${a.labels.alertname}{instance="${a.labels.instance}"} ${a.state}`).join(', ') || 'none'}\n`);
    for (const w of want) assert.ok(found(w), `${w.alertname} for ${w.instance} is not pending or firing`);
    const vfsAlert = found(want[0]!)!;
    assert.equal(vfsAlert.labels.severity, 'warning');
    assert.match(vfsAlert.annotations.summary ?? '', new RegExp(`Docker on ${vfsInstance.replace(/\./g, '\\.')} fell back to the vfs storage driver`));
    for (const a of alerts) {
      if (a.labels.instance === overlayInstance) assert.ok(!['LayerduVfsFallback', 'LayerduDtypeUnsupported'].includes(a.labels.alertname!), `${a.labels.alertname} on overlay2`);
      // both daemons answer, scans are fresh, and the disk is not filling at 24 h scale in a minute
      assert.ok(!['LayerduDockerApiDown', 'LayerduScanStale'].includes(a.labels.alertname!), `${a.labels.alertname} on ${a.labels.instance}`);
      // the node has no Docker (so no API to be down), no vfs, no orphans, and its scans succeed
      if (a.labels.instance === k8sInstance) {
        assert.ok(
          !['LayerduVfsFallback', 'LayerduDtypeUnsupported', 'LayerduOrphanedLayers', 'LayerduScansFailing'].includes(a.labels.alertname!),
          `${a.labels.alertname} on the Kubernetes node`,
        );
      }
    }
    // LayerduDockerApiDown cannot fire for the node: its agent exports no layerdu_docker_api_up at all
    assert.deepEqual(await prom!.query(`layerdu_docker_api_up{instance="${k8sInstance}"}`), [], 'no layerdu_docker_api_up on the node');
    assert.deepEqual(
      (await prom!.query(`layerdu_scan_success{instance="${k8sInstance}"}`)).map((x) => x.value![1]),
      ['1'],
      'the node\'s scans succeed',
    );
  });

  it('dot -Tpng renders --report --format dot of both hosts without a warning', async function () {
    assert.ok(existsSync(DOT), `${DOT} not found (apt-get install -y graphviz)`);
    for (const d of [overlay!, vfs!]) {
      const r = await runReport(['--format', 'dot', '--docker-root', d.root, '--docker-host', d.host]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^digraph layerdu \{$/m);
      const json = await runReport<Report>(['--format', 'json', '--docker-root', d.root, '--docker-host', d.host]);
      for (const i of json.json!.images) assert.ok(r.stdout.includes(`"image:${i.id.replace(/^sha256:/, '')}"`), `${i.tags.join()} is drawn`);
      const png = spawnSync(DOT, ['-Tpng'], { input: r.stdout, maxBuffer: 64 * MiB });
      assert.equal(png.status, 0, png.stderr.toString());
      assert.equal(png.stderr.toString(), '', 'no warning from dot');
      assert.deepEqual([...png.stdout.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
      // LDU_SHARING_GRAPH=docs/sharing-graph.png keeps the overlay2 host's picture (the README's)
      if (d === overlay && process.env.LDU_SHARING_GRAPH) await writeFile(path.resolve(REPO_ROOT, process.env.LDU_SHARING_GRAPH), png.stdout);
    }
  });
});
