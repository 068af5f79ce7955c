import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { ReportMetrics } from '../../agent/render/metrics.js';
import type { Report } from '../../agent/model/report.js';
import { emptyReport } from './report-stub.js';

const IMG = `sha256:${'a'.repeat(64)}`;
const GONE = `sha256:${'b'.repeat(64)}`;
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
  return emptyReport({ images: [image(IMG, 'keep:1'), image(GONE, 'gone:1')], ...over });
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
