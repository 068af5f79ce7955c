// The fleet dashboard (dashboards/layerdu-fleet.json) against a real Prometheus scraping three
// layerdu agents on three hosts, the rules file loaded (its layerdu-fleet recording rules
// evaluated every second):
//   golden  the recorded docker root of the golden test (test/fixtures/docker-root), extracted onto
//           a loop-mounted ext4, no daemon (its API unreachable): some waste, a small orphan, build
//           cache, containers on two of its images;
//   overlay a private overlay2 dockerd: one image wasting 1 MiB and a 2 MiB leaked layer directory,
//           no container (so every image is unused);
//   cd      a private dockerd on the containerd image store: the compressed copies (content blobs),
//           an image a created container uses and one no container does.
// Every query of every fleet panel returns a series, for all hosts and for each alone; each
// recorded per-host figure equals what the agent's own /metrics gives by the rule's definition;
// and the rankings put the hosts in the right order, $top cutting them.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RECORDED } from '../../dashboards/src/fleet.js';
import { get, parseExposition, pick, startAgent, value, type AgentProcess, type Sample } from '../support/agent-process.js';
import { cleanupSteps } from '../support/cleanup.js';
import { startContainerdStore, type ContainerdStoreDaemon } from '../support/containerd-store.js';
import { findExecutable, makeBaseImage, startDaemon, type Daemon } from '../support/dockerd.js';
import { buildClassic } from '../support/fixture-host.js';
import { API, useRecordedRoot } from '../support/golden-run.js';
import { REPO_ROOT } from '../support/oracles.js';
import { PROMETHEUS, panelQueries, startPrometheus, substitute, type PromSample, type PromServer } from '../support/prometheus.js';

const RULES = path.join(REPO_ROOT, 'dashboards', 'layerdu.rules.yml');
const FLEET = path.join(REPO_ROOT, 'dashboards', 'layerdu-fleet.json');
const EVERY_2S = '*/2 * * * * *';
const MiB = 1024 * 1024;

type HostName = 'golden' | 'overlay' | 'cd';
type Figure = keyof typeof RECORDED;

interface Host {
  name: HostName;
  agent: AgentProcess;
  /** host:port, Prometheus' instance label. */
  instance: string;
}

/** The recorded figures by the rules' definitions, from one exposition of an agent. */
function expected(samples: Sample[]): Partial<Record<Figure, number>> & { unusedImages: number } {
  const sum = (name: string, labels: Record<string, string> = {}) => pick(samples, name, labels).reduce((a, s) => a + s.value, 0);
  const used = new Set(pick(samples, 'layerdu_container_bytes').map((s) => s.labels.image_id));
  const unusedImages = pick(samples, 'layerdu_image_bytes', { scope: 'unique' })
    .filter((s) => !used.has(s.labels.image_id))
    .reduce((a, s) => a + s.value, 0);
  const orphans = value(samples, 'layerdu_host_bytes', { category: 'orphans' });
  const buildCache = value(samples, 'layerdu_host_bytes', { category: 'build_cache' });
  return {
    wasted: sum('layerdu_wasted_bytes'),
    orphans,
    compressed: value(samples, 'layerdu_host_bytes', { category: 'image_content' }),
    buildCache,
    unusedImages,
    reclaimable: orphans + buildCache + unusedImages,
  };
}

describe('Prometheus: the fleet dashboard against three agents', function () {
  this.timeout(300_000);
  let overlay: Daemon | null = null;
  let cd: ContainerdStoreDaemon | null = null;
  let prom: PromServer | null = null;
  const hosts: Host[] = [];
  let dashboard: Parameters<typeof panelQueries>[0] = {};

  // Registered before useRecordedRoot's hooks, so that it runs first: the agents stop before the
  // recorded root is unmounted.
  after(async function () {
    this.timeout(180_000);
    const { attempt, done } = cleanupSteps();
    if (prom) await attempt(() => prom!.stop());
    for (const h of hosts) await attempt(() => h.agent.stop());
    if (overlay) await attempt(() => overlay!.stop());
    if (cd) await attempt(() => cd!.stop());
    done();
  });

  const golden = useRecordedRoot();

  before(async function () {
    if (process.getuid?.() !== 0) this.skip();
    for (const tool of [PROMETHEUS, 'dockerd', 'busybox']) {
      assert.ok(tool.startsWith('/') ? existsSync(tool) : findExecutable(tool), `${tool} not found`);
    }
    const t0 = Date.now();
    dashboard = JSON.parse(await readFile(FLEET, 'utf8')) as typeof dashboard;

    const buildOverlay = async () => {
      const d = await startDaemon();
      overlay = d;
      await makeBaseImage(d, 'base:latest');
      await buildClassic(d, 'waste:latest', 'FROM base:latest\nRUN head -c 1048576 /dev/urandom > /w.bin\nRUN rm /w.bin\n');
      const leaked = path.join(d.root, 'overlay2', randomBytes(32).toString('hex'), 'diff');
      await mkdir(leaked, { recursive: true });
      await writeFile(path.join(leaked, 'junk.bin'), randomBytes(2 * MiB));
    };
    const buildCd = async () => {
      const d = await startContainerdStore();
      cd = d;
      await makeBaseImage(d, 'base:latest');
      await buildClassic(d, 'unused:latest', 'FROM base:latest\nRUN head -c 262144 /dev/urandom > /u.bin\n');
      await d.docker(['create', '--network=none', '--name', 'idle', 'base:latest', 'true']);
    };
    await Promise.all([buildOverlay(), buildCd()]);
    const t1 = Date.now();

    const args: Record<HostName, string[]> = {
      golden: ['--docker-root', golden().root, '--docker-host', API],
      overlay: ['--docker-root', overlay!.root, '--docker-host', overlay!.host],
      cd: ['--docker-root', cd!.root, '--containerd-root', cd!.containerd.root, '--docker-host', cd!.host],
    };
    for (const name of ['golden', 'overlay', 'cd'] as const) {
      const agent = await startAgent([...args[name], '--scan.schedule', EVERY_2S]);
      hosts.push({ name, agent, instance: new URL(agent.url).host });
    }
    await Promise.all(hosts.map((h) => h.agent.scrapeAfter(0)));
    prom = await startPrometheus({ targets: hosts.map((h) => h.instance), ruleFiles: [RULES], scrapeInterval: '1s', evaluationInterval: '1s' });

    // Three samples of the last recording rule for every host (it reads the group's earlier ones).
    const deadline = Date.now() + 60_000;
    for (;;) {
      const s = await prom.query(`count_over_time(${RECORDED.reclaimable}[1m]) >= 3`);
      if (s.length === 3) break;
      if (Date.now() > deadline) throw new Error(`the fleet rules have not recorded three hosts 3 times: ${JSON.stringify(s)}\n${prom.log()}`);
      await sleep(500);
    }
    process.stdout.write(`      set-up: hosts ${((t1 - t0) / 1000).toFixed(1)} s, agents and Prometheus ${((Date.now() - t1) / 1000).toFixed(1)} s\n`);
  });

  const host = (name: HostName) => hosts.find((h) => h.name === name)!;
  const exposition = async (h: Host) => parseExposition((await get(`${h.agent.url}/metrics`)).body);
  const byTitle = (title: string) => {
    const q = panelQueries(dashboard).filter((p) => p.panelTitle === title);
    assert.equal(q.length, 1, `one query in panel "${title}"`);
    return q[0]!.expr;
  };
  const run = (expr: string, vars: Record<string, string> = {}) => prom!.query(substitute(expr, { instance: '.*', top: '10', ...vars }));
  const instances = (s: PromSample[]) => s.map((x) => x.metric.instance);
  const nameOf = (instance: string | undefined) => hosts.find((h) => h.instance === instance)?.name;

  it('scrapes the three agents and evaluates every layerdu-fleet rule', async () => {
    const targets = await prom!.api<{ activeTargets: Array<{ labels: Record<string, string>; health: string; lastError: string }> }>('targets');
    assert.deepEqual(targets.activeTargets.map((t) => t.labels.instance).sort(), hosts.map((h) => h.instance).sort());
    for (const t of targets.activeTargets) assert.equal(t.health, 'up', `${t.labels.instance}: ${t.lastError}`);
    const rules = await prom!.api<{ groups: Array<{ name: string; rules: Array<{ name: string; health: string; lastError?: string }> }> }>('rules');
    const fleet = rules.groups.find((g) => g.name === 'layerdu-fleet');
    assert.ok(fleet, 'the layerdu-fleet group is loaded');
    for (const r of fleet.rules) assert.equal(r.health, 'ok', `${r.name}: ${r.lastError}`);
    for (const r of Object.values(RECORDED)) assert.ok(fleet.rules.some((x) => x.name === r), `${r} is recorded`);
  });

  it('every query of every fleet panel returns at least one series, for all hosts and for each alone', async () => {
    const qs = panelQueries(dashboard);
    const empty: string[] = [];
    for (const instance of ['.*', ...hosts.map((h) => h.instance)]) {
      for (const q of qs) {
        const expr = substitute(q.expr, { instance, top: '10' });
        const result = q.instant ? await prom!.query(expr) : await prom!.queryRange(expr, 60, 1);
        if (result.length === 0) empty.push(`#${q.panelId} "${q.panelTitle}" ${q.refId} (instance ${instance}): ${expr}`);
      }
    }
    const panels = new Set(qs.map((q) => q.panelId)).size;
    process.stdout.write(`      ${panels} panels, ${qs.length} queries, each run for all hosts and for each of the 3: ${qs.length * 4 - empty.length} of ${qs.length * 4} non-empty\n`);
    assert.deepEqual(empty, [], `queries without a series:\n${empty.join('\n')}`);
  });

  it("each host's recorded figures are what its agent's /metrics gives by the rules' definitions", async () => {
    const figures = ['wasted', 'orphans', 'compressed', 'buildCache', 'reclaimable'] as const;
    let mismatch: string[] = [];
    const deadline = Date.now() + 15_000;
    do {
      mismatch = [];
      for (const h of hosts) {
        const want = expected(await exposition(h));
        for (const f of figures) {
          const got = await prom!.query(`${RECORDED[f]}{instance="${h.instance}"}`);
          const v = got.length === 1 ? Number(got[0]!.value![1]) : NaN;
          if (v !== want[f]) mismatch.push(`${h.name} ${RECORDED[f]}: Prometheus ${v}, /metrics ${want[f]}`);
        }
        const unused = await prom!.query(`instance:layerdu_unused_image_unique_bytes:sum{instance="${h.instance}"}`);
        if (Number(unused[0]?.value?.[1]) !== want.unusedImages) mismatch.push(`${h.name} unused images: ${JSON.stringify(unused)}, /metrics ${want.unusedImages}`);
      }
      if (mismatch.length > 0) await sleep(1000);
    } while (mismatch.length > 0 && Date.now() < deadline);
    assert.deepEqual(mismatch, []);

    // The fixtures are what the rankings below rely on.
    const [g, o, c] = await Promise.all((['golden', 'overlay', 'cd'] as const).map(async (n) => expected(await exposition(host(n)))));
    assert.ok(o!.wasted! >= MiB && g!.wasted! > 0 && c!.wasted === 0, `wasted: overlay ${o!.wasted}, golden ${g!.wasted}, cd ${c!.wasted}`);
    assert.ok(o!.orphans! >= 2 * MiB && g!.orphans! > 0 && c!.orphans === 0, 'orphans');
    assert.ok(c!.compressed! > 0 && g!.compressed === 0 && o!.compressed === 0, 'compressed copies on the containerd store only');
    // golden: containers run on base and overwrite, so those two count nowhere; cd: base runs in `idle`
    assert.ok(g!.unusedImages > 0 && c!.unusedImages > 0 && o!.unusedImages > 0, 'every host has an unused image');
  });

  it('the rankings order the hosts by each figure, largest first, and $top cuts them', async () => {
    const want = Object.fromEntries(await Promise.all(hosts.map(async (h) => [h.name, expected(await exposition(h))] as const))) as Record<HostName, ReturnType<typeof expected>>;
    const panels: Array<[string, Figure]> = [
      ['Hosts by reclaimable bytes (lower bound)', 'reclaimable'],
      ['Hosts by wasted bytes', 'wasted'],
      ['Hosts by orphaned bytes', 'orphans'],
      ['Hosts by compressed copies', 'compressed'],
    ];
    for (const [title, figure] of panels) {
      const order = [...hosts].sort((a, b) => want[b.name][figure]! - want[a.name][figure]!).map((h) => h.name);
      const [first, second] = order.map((n) => want[n][figure]!);
      assert.ok(first! > second!, `${title}: the largest (${order[0]}) is alone at the top`);
      const result = await run(byTitle(title));
      const values = result.map((s) => Number(s.value![1]));
      assert.equal(result.length, 3, `${title}: every host`);
      assert.deepEqual(values, [...values].sort((a, b) => b - a), `${title}: largest first`);
      assert.equal(nameOf(result[0]!.metric.instance), order[0], `${title}: ${order[0]} first in ${JSON.stringify(instances(result))}`);
      // ties (hosts with none) aside, the whole order
      const distinct = order.filter((n, i) => i === 0 || want[n][figure] !== want[order[i - 1]!][figure]);
      if (distinct.length === 3) assert.deepEqual(result.map((s) => nameOf(s.metric.instance)), order, title);
      const top1 = await run(byTitle(title), { top: '1' });
      assert.deepEqual(top1.map((s) => nameOf(s.metric.instance)), [order[0]], `${title} with $top 1`);
    }
    assert.deepEqual(instances(await run(byTitle('Hosts by wasted bytes'), { instance: host('golden').instance })), [host('golden').instance], 'the instance variable filters');
  });

  it('the fleet counts, the hosts table and the store table tell the hosts apart', async () => {
    const count = async (title: string) => Number((await run(byTitle(title)))[0]!.value![1]);
    assert.equal(await count('Hosts'), 3);
    assert.equal(await count('Docker API down'), 1, 'the golden host has no API');
    assert.equal(await count('vfs fallbacks'), 0);
    assert.equal(await count('Scans stale'), 0);
    const reclaimable = Number((await run(byTitle('Reclaimable, at least')))[0]!.value![1]);
    const sum = (await Promise.all(hosts.map(async (h) => expected(await exposition(h)).reclaimable!))).reduce((a, b) => a + b, 0);
    assert.equal(reclaimable, sum, 'the fleet total is the hosts added up');

    // Each column of the hosts table: one series a host, labelled job and instance only (merge joins on them).
    const table = panelQueries(dashboard).filter((q) => q.panelTitle === 'All hosts');
    assert.equal(table.length, 12);
    for (const q of table) {
      const result = await run(q.expr);
      assert.ok(result.length === 3 || (q.expr.includes('dtype') && result.length > 0), `${q.refId}: ${result.length} hosts`);
      for (const s of result) assert.deepEqual(Object.keys(s.metric).sort(), ['instance', 'job'], `${q.refId} ${q.expr}`);
    }

    const stores = await run(byTitle('Image store and storage driver'));
    const store = Object.fromEntries(stores.map((s) => [nameOf(s.metric.instance), `${s.metric.store}/${s.metric.driver}`]));
    assert.deepEqual(store, { golden: 'graphdriver/overlay2', overlay: 'graphdriver/overlay2', cd: 'containerd/overlayfs' });
  });
});
