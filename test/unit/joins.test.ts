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
    const dir = (id: string, disk: number) => [id, { id, role: 'container-layer' as const, path: `/x/${id}`, bytes: { disk, apparent: 0 } }] as const;
    const walked = new Map([dir('m1', 4096), dir('m3', 0)]);
    const problems = unjoined([container('c1', 'web'), container('c2', 'churn-0'), container('c3', 'gone-1')], {
      mounts: [...mounts, { containerId: 'c3', mountId: 'm3', initId: null, parent: null }],
      layers,
      images: [image('i1', 'ok:1', ['k1']), image('i2', 'unpacking:1', ['k1', 'k2', 'k3']), image('i3', 'classic:1')],
    }, walked);
    assert.deepEqual(problems.map((p) => p.path), ['c2', 'c3', 'i2']);
    assert.match(problems[0]!.message, /container churn-0 has no layer record/);
    assert.match(problems[1]!.message, /container gone-1: its writable layer was gone before its walk/);
    assert.match(problems[2]!.message, /image unpacking:1 names 2 layer\(s\) not on disk/);
    assert.deepEqual(unjoined([container('c1', 'web')], { mounts, layers, images: [image('i1', 'ok:1', ['k1'])] }, walked), []);
  });

  it('names a container whose writable layer directory its store did not find, unless that store lists none', () => {
    const mounts = [{ containerId: 'c1', mountId: 'm1', initId: null, parent: null }, { containerId: 'c4', mountId: 'm4', initId: null, parent: null }];
    const walked = new Map([['m1', { id: 'm1', role: 'container-layer' as const, path: '/x/m1', bytes: { disk: 4096, apparent: 0 } }]]);
    const problems = unjoined([container('c1', 'web'), container('c4', 'removing-4')], { mounts, layers: [], images: [] }, walked, new Set(['m1', 'm4']));
    assert.deepEqual(problems.map((p) => p.path), ['c4']);
    assert.match(problems[0]!.message, /container removing-4: its writable layer's directory was not there/);
    // A store of a driver layerdu does not measure (zfs beside an old overlay2 store): its
    // containers have no directory walked, and none is expected.
    assert.deepEqual(unjoined([container('c1', 'web'), container('c4', 'on-zfs')], { mounts, layers: [], images: [] }, walked, new Set(['m1'])), []);
  });
});
