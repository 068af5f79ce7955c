// --metrics.max-objects: the N biggest objects of each kind keep their series, the rest are one
// `_other` series holding their sums, layerdu_series_capped says how many were folded, and the
// report itself (JSON, text) stays whole.
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import type { ContainerReport, ImageReport, LayerReport, OwnerReport, Report } from '../../agent/model/report.js';
import { capForMetrics, DEFAULT_MAX_OBJECTS, OTHER, splitTop } from '../../agent/render/metrics-cap.js';
import { ReportMetrics } from '../../agent/render/metrics.js';
import { parseExposition, pick, value, type Sample } from '../support/agent-process.js';
import { emptyReport } from './report-stub.js';

const hex = (n: number, c = 'a') => `sha256:${c.repeat(63)}${n.toString(16)}`;

function image(n: number): ImageReport {
  return {
    id: hex(n),
    tags: [`img${n}:1`],
    layers: [hex(n, 'c'), hex(n + 1, 'c')],
    disk: { total: 100 * n, shared: 10 * n, unique: 90 * n },
    apparent: { total: 80 * n, shared: 8 * n, unique: 72 * n },
    content: { disk: n, apparent: n },
    wasted: { disk: 2 * n, apparent: 2 * n },
    containers: 1,
    rmi: { disk: 3 * n, apparent: 3 * n },
  };
}
function layer(n: number): LayerReport {
  return { chainId: hex(n, 'c'), cacheId: `${n}`.padStart(64, '0'), disk: 1000 * n, apparent: 900 * n, images: [hex(n), hex(n + 1)], containers: [] };
}
function container(n: number): ContainerReport {
  const b = (x: number) => ({ disk: x, apparent: x });
  return { id: `${n}`.padStart(64, 'e'), name: `c${n}`, imageId: hex(1), state: 'running', writable: b(10 * n), init: b(1), copiedUp: b(n), logs: 5 * n, logsApparent: 5 * n };
}
function owner(kind: OwnerReport['kind'], n: number): OwnerReport {
  return { kind, name: `${kind}${n}`, containers: [], disk: { writable: n, logs: n, volumes: 0, imagesExclusive: 10 * n, imagesShared: 0 } };
}

function report(): Report {
  // Listed smallest first: the cap keeps the biggest, in the report's own order.
  return emptyReport({
    images: [1, 2, 3, 4, 5].map(image),
    layers: [1, 2, 3, 4].map(layer),
    containers: [1, 2, 3, 4, 5, 6].map(container),
    volumes: [1, 2, 3].map((n) => ({ name: `v${n}`, disk: n * 7, apparent: n * 7, containers: [], anonymous: false })),
    owners: [owner('compose-project', 1), owner('label', 2), owner('compose-project', 3), owner('label', 4), owner('compose-project', 5)],
    orphans: [1, 2, 3].map((n) => ({ id: `${n}`.padStart(64, 'f'), kind: 'layer-dir' as const, path: `/x/${n}`, disk: n, apparent: n })),
  });
}

async function exposition(max?: number, r = report()): Promise<{ s: Sample[]; text: string }> {
  const m = new ReportMetrics(new Registry(), max);
  m.update(r);
  const text = await m.registry.metrics();
  return { s: parseExposition(text), text };
}
const total = (s: Sample[], name: string, labels: Record<string, string> = {}) => pick(s, name, labels).reduce((n, x) => n + x.value, 0);

describe('metrics cap (--metrics.max-objects)', () => {
  it('splitTop keeps the N biggest in their own order, the first listed winning a tie; 0 keeps all', () => {
    assert.deepEqual(splitTop([1, 5, 3, 5, 2], 2, (x) => x), { kept: [5, 5], rest: [1, 3, 2] });
    assert.deepEqual(splitTop(['a', 'b', 'c'], 2, () => 1), { kept: ['a', 'b'], rest: ['c'] });
    assert.deepEqual(splitTop([1, 2], 0, (x) => x), { kept: [1, 2], rest: [] });
    assert.deepEqual(splitTop([1, 2], 2, (x) => x), { kept: [1, 2], rest: [] });
  });

  it('keeps the 2 biggest images, containers, layers, volumes, orphans; the rest are one _other series of their sums', async () => {
    const { s: full } = await exposition(0);
    const { s } = await exposition(2);
    for (const [name, idLabel] of [
      ['layerdu_image_bytes', 'image_id'],
      ['layerdu_image_apparent_bytes', 'image_id'],
      ['layerdu_image_content_bytes', 'image_id'],
      ['layerdu_wasted_bytes', 'image_id'],
      ['layerdu_image_rmi_bytes', 'image_id'],
      ['layerdu_layer_bytes', 'chain_id'],
      ['layerdu_layer_images', 'chain_id'],
      ['layerdu_container_bytes', 'container_id'],
      ['layerdu_container_copied_up_bytes', 'container_id'],
      ['layerdu_volume_bytes', 'name'],
      ['layerdu_orphan_bytes', 'id'],
      ['layerdu_owner_bytes', 'name'],
    ] as const) {
      assert.equal(total(s, name), total(full, name), `${name}: the sum over the gauge is kept`);
      const ids = new Set(pick(s, name).map((x) => x.labels[idLabel]));
      assert.ok(ids.has(OTHER), `${name} has an ${OTHER} series`);
    }
    const imageIds = new Set(pick(s, 'layerdu_image_bytes').map((x) => x.labels.image_id));
    assert.deepEqual([...imageIds], [hex(4), hex(5), OTHER], 'the two biggest images, then _other');
    assert.equal(value(s, 'layerdu_image_bytes', { image_id: OTHER, image: OTHER, scope: 'unique' }), 90 * (1 + 2 + 3));
    assert.equal(value(s, 'layerdu_wasted_bytes', { image_id: OTHER, image: OTHER }), 2 * (1 + 2 + 3));
    assert.equal(value(s, 'layerdu_image_layer_info', { image_id: OTHER, chain_id: OTHER, position: OTHER }), 6, '3 folded images × 2 layers');
    assert.equal(pick(s, 'layerdu_image_layer_info').length, 2 * 2 + 1);
    assert.equal(value(s, 'layerdu_layer_bytes', { chain_id: OTHER, cache_id: OTHER }), 1000 * (1 + 2));
    assert.equal(value(s, 'layerdu_layer_images', { chain_id: OTHER }), 4, 'the folded layers’ image counts summed');
    const other = { container_id: OTHER, name: OTHER, image_id: OTHER };
    assert.equal(value(s, 'layerdu_container_bytes', { ...other, scope: 'writable' }), 10 * (1 + 2 + 3 + 4));
    assert.equal(value(s, 'layerdu_container_bytes', { ...other, scope: 'logs' }), 5 * (1 + 2 + 3 + 4));
    assert.equal(pick(s, 'layerdu_container_bytes').length, 3 * 3);
    assert.equal(value(s, 'layerdu_volume_bytes', { name: OTHER }), 7);
    assert.equal(value(s, 'layerdu_orphan_bytes', { id: OTHER }), 1);
    for (const [kind, n] of [['image', 3], ['layer', 2], ['container', 4], ['volume', 1], ['owner', 3], ['orphan', 1]] as const) {
      assert.equal(value(s, 'layerdu_series_capped', { kind }), n, kind);
      assert.equal(value(full, 'layerdu_series_capped', { kind }), 0, `${kind} uncapped`);
    }
  });

  it('an owner keeps its kind: one _other a kind that lost any', async () => {
    const { s } = await exposition(2);
    // Kept: compose-project5 (60) and label4 (48); folded: compose 1 and 3, label 2.
    assert.deepEqual(new Set(pick(s, 'layerdu_owner_bytes', { scope: 'writable' }).map((x) => `${x.labels.kind}/${x.labels.name}`)), new Set(['compose-project/compose-project5', 'label/label4', 'compose-project/_other', 'label/_other']));
    assert.equal(value(s, 'layerdu_owner_bytes', { kind: 'compose-project', name: OTHER, scope: 'images_exclusive' }), 10 * (1 + 3));
    assert.equal(value(s, 'layerdu_owner_bytes', { kind: 'label', name: OTHER, scope: 'logs' }), 2);
  });

  it('under the cap nothing is folded and no _other appears; the report is left whole', async () => {
    const r = report();
    const before = JSON.stringify(r);
    const { text, s } = await exposition(500, r);
    assert.doesNotMatch(text, /_other"/);
    assert.equal(total(s, 'layerdu_series_capped'), 0);
    capForMetrics(r, 1);
    assert.equal(JSON.stringify(r), before, 'capping makes a copy');
  });

  it('says the convention in the HELP of each capped gauge, and the default is 500', async () => {
    const { text } = await exposition();
    assert.equal(value(parseExposition(text), 'layerdu_series_capped', { kind: 'image' }), 0);
    for (const name of ['layerdu_image_bytes', 'layerdu_container_bytes', 'layerdu_layer_bytes', 'layerdu_owner_bytes', 'layerdu_image_layer_info']) {
      assert.match(text, new RegExp(`^# HELP ${name} .*--metrics\\.max-objects.*_other`, 'm'), name);
    }
    assert.doesNotMatch(text, /^# HELP layerdu_host_bytes .*_other/m);
    const many = report();
    many.images = Array.from({ length: 600 }, (_, i) => image(i + 1));
    assert.equal(DEFAULT_MAX_OBJECTS, 500);
    const { s } = await exposition(undefined, many);
    assert.equal(value(s, 'layerdu_series_capped', { kind: 'image' }), 100, 'the default cap is 500');
  });
});
