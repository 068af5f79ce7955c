import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { ReportMetrics } from '../../agent/render/metrics.js';
import type { Report } from '../../agent/model/report.js';

const IMG = `sha256:${'a'.repeat(64)}`;
const GONE = `sha256:${'b'.repeat(64)}`;
const zeroTotals = { imageLayers: 0, imageContent: 0, containerLayers: 0, volumes: 0, logs: 0, buildCache: 0, orphans: 0, other: 0, total: 0 };

function report(over: Partial<Report> = {}): Report {
  const image = (id: string, tag: string) => ({
    id,
    tags: [tag],
    layers: [],
    disk: { total: 10, shared: 4, unique: 6 },
    apparent: { total: 8, shared: 3, unique: 5 },
    content: { disk: 0, apparent: 0 },
    wasted: { disk: 1, apparent: 1 },
    containers: 0,
    rmi: { disk: 0, apparent: 0 },
  });
  return {
    dockerRoot: '/var/lib/docker',
    apiUp: true,
    driver: { name: 'overlay2', store: 'graphdriver', backingFs: 'ext4', dType: true, vfsFallback: false, reason: '' },
    stores: [],
    content: [],
    filesystem: null,
    images: [image(IMG, 'keep:1'), image(GONE, 'gone:1')],
    layers: [],
    containers: [],
    volumes: [],
    owners: [],
    orphans: [],
    buildCache: { disk: 0, apparent: 0, dirs: 0 },
    reclaim: [],
    totals: { disk: zeroTotals, apparent: zeroTotals, naiveVirtual: 0 },
    errors: [],
    scan: { startedAt: '2026-11-23T12:00:00Z', finishedAt: '2026-11-23T12:00:01Z', durationSeconds: 1, collectors: [], layersWalked: 2, layersReused: 0 },
    ...over,
  };
}

async function text(m: ReportMetrics): Promise<string> {
  return m.registry.metrics();
}

describe('ReportMetrics', () => {
  it('drops the series of an image that is gone at the next update', async () => {
    const m = new ReportMetrics(new Registry());
    m.update(report());
    assert.match(await text(m), new RegExp(`image_id="${GONE}"`));
    m.update(report({ images: report().images.slice(0, 1) }));
    const after = await text(m);
    assert.doesNotMatch(after, new RegExp(`image_id="${GONE}"`));
    assert.match(after, new RegExp(`layerdu_image_bytes\\{image_id="${IMG}",image="keep:1",scope="unique"\\} 6`));
  });

  it('a scan is a success when only the Docker API was unreachable; any disk problem is not', async () => {
    const m = new ReportMetrics(new Registry());
    m.update(report({ apiUp: false, errors: [{ source: 'docker-api', path: 'unix:///x', message: 'unreachable' }] }));
    assert.match(await text(m), /^layerdu_scan_success 1$/m);
    assert.match(await text(m), /^layerdu_docker_api_up 0$/m);
    m.update(report({ errors: [{ source: 'layer-walker', path: '/x', message: 'permission denied' }] }));
    assert.match(await text(m), /^layerdu_scan_success 0$/m);
  });

  it('leaves layerdu_dtype_supported out when d_type is unknown', async () => {
    const m = new ReportMetrics(new Registry());
    m.update(report({ driver: { name: 'zfs', store: 'graphdriver', backingFs: null, dType: null, vfsFallback: false, reason: 'not measured' } }));
    assert.doesNotMatch(await text(m), /^layerdu_dtype_supported /m);
    assert.match(await text(m), /^layerdu_storage_driver_info\{driver="zfs",backing_fs="",docker_root="\/var\/lib\/docker",store="graphdriver"\} 1$/m);
    m.update(report());
    assert.match(await text(m), /^layerdu_dtype_supported 1$/m);
  });
});
