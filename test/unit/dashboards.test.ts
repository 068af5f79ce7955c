// The committed Grafana dashboards: exactly what dashboards/src generates, every panel queries
// through the `${datasource}` variable, and every selector filters on `$instance` and names a
// metric the agent exports or a series the rules record.
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { Registry } from 'prom-client';
import { parse } from 'yaml';
import { ReportMetrics } from '../../agent/render/metrics.js';
import { DASHBOARDS, dashboardText } from '../../dashboards/src/index.js';
import { REPO_ROOT } from '../support/oracles.js';
import { allPanels, panelQueries, substitute } from '../support/prometheus.js';

const DIR = path.join(REPO_ROOT, 'dashboards');
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

interface Variable {
  type: string;
  name: string;
  query?: unknown;
  datasource?: unknown;
  multi?: boolean;
  includeAll?: boolean;
}

interface DashboardJson {
  uid: string;
  title: string;
  templating: { list: Variable[] };
  annotations?: { list: Array<{ expr?: string; datasource?: unknown; builtIn?: number }> };
  panels: Array<{ id?: number; type: string; title?: string; datasource?: unknown; gridPos?: { x: number; y: number; w: number; h: number }; targets?: Array<{ datasource?: unknown; expr?: string }> }>;
}

async function committed(): Promise<Map<string, { text: string; json: DashboardJson }>> {
  const out = new Map<string, { text: string; json: DashboardJson }>();
  for (const f of (await readdir(DIR)).filter((n) => n.endsWith('.json')).sort()) {
    const text = await readFile(path.join(DIR, f), 'utf8');
    out.set(f, { text, json: JSON.parse(text) as DashboardJson });
  }
  return out;
}

/** Metric names in a PromQL expression (recorded `level:layerdu_…:operations` names whole), with their matchers. */
function selectors(expr: string): Array<{ metric: string; matchers: string | null }> {
  const out: Array<{ metric: string; matchers: string | null }> = [];
  for (const m of expr.matchAll(/(?<![\w:])((?:[a-z_]+:)?layerdu_[a-z_]+(?::[a-z_]+)?|ALERTS)(?![\w:])(\{[^}]*\})?/g)) out.push({ metric: m[1]!, matchers: m[2] ?? null });
  return out;
}

/** The series the recording rules of dashboards/layerdu.rules.yml record. */
async function recorded(): Promise<Set<string>> {
  const rules = parse(await readFile(path.join(DIR, 'layerdu.rules.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ record?: string }> }> };
  return new Set(rules.groups.flatMap((g) => g.rules).flatMap((r) => (r.record ? [r.record] : [])));
}

function exported(): Set<string> {
  const registry = new Registry();
  new ReportMetrics(registry);
  return new Set(registry.getMetricsAsArray().map((m) => m.name));
}

describe('Grafana dashboards', () => {
  it('the committed JSON is exactly what `npm run dashboards` writes', async () => {
    const files = await committed();
    assert.deepEqual([...files.keys()].sort(), Object.keys(DASHBOARDS).sort(), 'one committed file per generated dashboard, no stray ones');
    for (const [file, make] of Object.entries(DASHBOARDS)) {
      assert.equal(files.get(file)!.text, dashboardText(make()), `${file} drifted from dashboards/src: run npm run dashboards`);
    }
  });

  it('have unique uids, unique panel ids and a grid without overlaps', async () => {
    const uids = new Set<string>();
    for (const [file, { json }] of await committed()) {
      assert.ok(json.uid && !uids.has(json.uid), `${file}: uid ${json.uid}`);
      uids.add(json.uid);
      const panels = allPanels(json);
      const ids = panels.map((p) => p.id);
      assert.equal(new Set(ids).size, ids.length, `${file}: duplicate panel ids`);
      const cells = new Map<string, string>();
      for (const p of json.panels) {
        const g = p.gridPos!;
        assert.ok(g.x >= 0 && g.w > 0 && g.x + g.w <= 24 && g.h > 0, `${file}: ${p.title} is off the grid`);
        for (let x = g.x; x < g.x + g.w; x++) {
          for (let y = g.y; y < g.y + g.h; y++) {
            const other = cells.get(`${x},${y}`);
            assert.equal(other, undefined, `${file}: ${p.title} overlaps ${other}`);
            cells.set(`${x},${y}`, p.title ?? '');
          }
        }
      }
    }
  });

  it('a datasource variable of type prometheus and a multi/all instance variable; no fixed uid, no ${DS_…} input', async () => {
    for (const [file, { text, json }] of await committed()) {
      assert.doesNotMatch(text, /\$\{DS_|__inputs|__requires/, file);
      const ds = json.templating.list.find((v) => v.name === 'datasource');
      assert.deepEqual({ type: ds?.type, query: ds?.query }, { type: 'datasource', query: 'prometheus' }, file);
      const inst = json.templating.list.find((v) => v.name === 'instance');
      assert.ok(inst, `${file}: no instance variable`);
      assert.equal(inst.type, 'query');
      assert.equal(inst.query, 'label_values(layerdu_scan_success, instance)');
      assert.equal(inst.multi, true);
      assert.equal(inst.includeAll, true);
      // every datasource named anywhere is the variable (or Grafana's built-in annotations)
      const refs = [...text.matchAll(/"uid": "([^"]*)"/g)].map((m) => m[1]);
      for (const uid of refs) if (uid !== json.uid) assert.ok(uid === '${datasource}' || uid === '-- Grafana --', `${file}: datasource uid ${uid}`);
      for (const v of json.templating.list) {
        if (v.type === 'query') assert.deepEqual(v.datasource, DATASOURCE, `${file}: variable ${v.name}`);
        if (v.type === 'query' && v.name !== 'instance') assert.match(String(v.query), /instance=~"\$instance"/, `${file}: variable ${v.name}`);
      }
    }
  });

  it('every panel has a query, and the panel and each of its queries use ${datasource}', async () => {
    for (const [file, { json }] of await committed()) {
      for (const p of allPanels(json)) {
        if (p.type === 'row') continue;
        const full = p as (typeof json.panels)[number];
        assert.deepEqual(full.datasource, DATASOURCE, `${file}: panel ${p.title}`);
        assert.ok((full.targets ?? []).length > 0, `${file}: panel ${p.title} has no query`);
        for (const t of full.targets ?? []) {
          assert.deepEqual(t.datasource, DATASOURCE, `${file}: panel ${p.title}`);
          assert.ok(t.expr && t.expr.trim() !== '', `${file}: panel ${p.title} has an empty query`);
        }
      }
    }
  });

  it('every selector of every query filters on instance=~"$instance", and names a metric the agent exports or the rules record', async () => {
    const known = exported();
    const records = await recorded();
    let count = 0;
    for (const [file, { json }] of await committed()) {
      const exprs = [
        ...panelQueries(json).map((q) => ({ where: `${q.panelTitle}/${q.refId}`, expr: q.expr })),
        ...(json.annotations?.list ?? []).filter((a) => a.expr).map((a) => ({ where: 'annotation', expr: a.expr! })),
      ];
      for (const { where, expr } of exprs) {
        count++;
        assert.ok(expr.includes('instance=~"$instance"'), `${file}: ${where}: ${expr}`);
        const sels = selectors(expr);
        assert.ok(sels.length > 0, `${file}: ${where}: no metric in ${expr}`);
        for (const s of sels) {
          assert.ok(s.matchers?.includes('instance=~"$instance"'), `${file}: ${where}: ${s.metric} without the instance filter in ${expr}`);
          if (s.metric.includes(':')) assert.ok(records.has(s.metric), `${file}: ${where}: ${s.metric} is recorded by no rule of layerdu.rules.yml`);
          else if (s.metric !== 'ALERTS') assert.ok(known.has(s.metric), `${file}: ${where}: ${s.metric} is not exported by the agent`);
        }
        // nothing but known variables
        substitute(expr, { instance: '.*', image: 'x', datasource: 'x', top: '10' });
      }
    }
    assert.ok(count >= 40, `only ${count} queries`);
  });

  it('the fleet dashboard ranks with topk($top, …) and reads per-image figures only through recorded series', async () => {
    const fleet = (await committed()).get('layerdu-fleet.json')!.json;
    const top = fleet.templating.list.find((v) => v.name === 'top');
    assert.equal(top?.type, 'custom', 'a $top variable');
    const records = await recorded();
    // gauges with one series a host: cheap to read as they are, however many hosts
    const perHost = new Set(['layerdu_scan_success', 'layerdu_last_scan_timestamp_seconds', 'layerdu_docker_api_up', 'layerdu_vfs_fallback', 'layerdu_dtype_supported', 'layerdu_storage_driver_info', 'layerdu_host_info']);
    const read = new Set<string>();
    for (const q of panelQueries(fleet)) {
      // Counts of hosts by a label are no ranking.
      if (q.panelType === 'bargauge' && !['Hosts by store and driver', 'Hosts by device type'].includes(q.panelTitle)) assert.match(q.expr, /^topk\(\$top, /, `${q.panelTitle}: ${q.expr}`);
      for (const s of selectors(q.expr)) {
        read.add(s.metric);
        assert.ok(records.has(s.metric) || perHost.has(s.metric), `${q.panelTitle}: ${s.metric} is neither recorded nor one series a host`);
      }
    }
    for (const r of records) assert.ok(read.has(r) || r === 'instance:layerdu_unused_image_unique_bytes:sum', `the fleet dashboard does not read ${r}`);
  });

  it('the overview covers every metric the agent exports (apparent bytes aside)', async () => {
    const overview = (await committed()).get('layerdu-overview.json')!.json;
    const used = new Set(panelQueries(overview).flatMap((q) => selectors(q.expr).map((s) => s.metric)));
    const missing = [...exported()].filter((m) => !used.has(m) && m !== 'layerdu_image_apparent_bytes' && m !== 'layerdu_image_layer_info');
    assert.deepEqual(missing, []);
    const image = (await committed()).get('layerdu-image.json')!.json;
    const usedByImage = new Set(panelQueries(image).flatMap((q) => selectors(q.expr).map((s) => s.metric)));
    for (const m of ['layerdu_image_layer_info', 'layerdu_layer_bytes', 'layerdu_layer_images']) assert.ok(usedByImage.has(m), m);
  });
});
