import assert from 'node:assert/strict';
import { unjoined } from '../../agent/scan/joins.js';
import type { ContainerFact, ImageFact } from '../../collectors/lib/facts.js';

const container = (id: string, name: string): ContainerFact => ({
  id, name, imageId: '', state: 'created', volumes: [], labels: {}, logs: { disk: 0, apparent: 0 }, logFiles: 0, logPaths: [],
});
const image = (id: string, tag: string, layerKeys?: string[]): ImageFact => ({ id, parent: null, diffIds: [], tags: [tag], digests: [], created: null, ...(layerKeys ? { layerKeys } : {}) });

describe('scan joins: reads made at different moments are named when they disagree', () => {
  it('names a container without a layer record and an image whose listed layers are not on disk; says nothing when all agree', () => {
    const mounts = [{ containerId: 'c1', mountId: 'm1', initId: null, parent: null }];
    const layers = [{ chainId: 'k1', diffId: '', parent: null, cacheId: 'd1', size: null }];
    const problems = unjoined([container('c1', 'web'), container('c2', 'churn-0')], {
      mounts,
      layers,
      images: [image('i1', 'ok:1', ['k1']), image('i2', 'unpacking:1', ['k1', 'k2', 'k3']), image('i3', 'classic:1')],
    });
    assert.deepEqual(problems.map((p) => p.path), ['c2', 'i2']);
    assert.match(problems[0]!.message, /container churn-0 has no layer record/);
    assert.match(problems[1]!.message, /image unpacking:1 names 2 layer\(s\) not on disk/);
    assert.deepEqual(unjoined([container('c1', 'web')], { mounts, layers, images: [image('i1', 'ok:1', ['k1'])] }), []);
  });
});
