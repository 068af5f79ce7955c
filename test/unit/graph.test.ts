import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { ImageFact, LayerFact, MountFact } from '../../collectors/lib/facts.js';
import { chainIds, listedImages } from '../../agent/model/graph.js';
import { classifyDirs } from '../../collectors/stores/graphdriver/classify.js';

const sha = (s: string): string => `sha256:${createHash('sha256').update(s).digest('hex')}`;
const hex = (c: string): string => c.repeat(64);

describe('chainIds', () => {
  it('is the diff id itself for a one-layer image (a real daemon’s layerdb entry)', () => {
    const d = 'sha256:db4fc538a906f8dcddc1e3e981a46c0910403deea9a6c0229c4fef3b6c0c76b8';
    assert.deepEqual(chainIds([d]), [d]);
  });

  it('follows ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln))', () => {
    const d0 = `sha256:${hex('a')}`;
    const d1 = `sha256:${hex('b')}`;
    const d2 = `sha256:${hex('c')}`;
    const c1 = `sha256:${createHash('sha256').update(`${d0} ${d1}`, 'utf8').digest('hex')}`;
    const c2 = `sha256:${createHash('sha256').update(`${c1} ${d2}`, 'utf8').digest('hex')}`;
    assert.deepEqual(chainIds([d0, d1, d2]), [d0, c1, c2]);
    assert.match(c1, /^sha256:[0-9a-f]{64}$/);
  });

  it('a repeated diff id still gets a fresh chain id (an empty layer twice)', () => {
    const d = `sha256:${hex('e')}`;
    const out = chainIds([d, d]);
    assert.equal(out.length, 2);
    assert.equal(out[0], d);
    assert.equal(out[1], sha(`${d} ${d}`));
  });

  it('is empty for no layers', () => {
    assert.deepEqual(chainIds([]), []);
  });
});

function image(id: string, over: Partial<ImageFact> = {}): ImageFact {
  return { id, parent: null, diffIds: [], tags: [], digests: [], created: null, ...over };
}

describe('listedImages', () => {
  const base = image(`sha256:${hex('1')}`, { tags: ['base:1'] }); // tagged, and a parent
  const mid = image(`sha256:${hex('2')}`, { parent: base.id }); // untagged parent: an intermediate
  const leaf = image(`sha256:${hex('3')}`, { parent: mid.id }); // untagged leaf (a dangling image)
  const digested = image(`sha256:${hex('4')}`, { digests: ['repo@sha256:' + hex('9')] }); // digest only
  const tagged = image(`sha256:${hex('5')}`, { parent: mid.id, tags: ['app:2'] });
  const lone = image(`sha256:${hex('6')}`); // untagged, no parent, no children

  it('lists tagged, digested-only and untagged leaf images, not untagged parents', () => {
    const listed = listedImages([base, mid, leaf, digested, tagged, lone]).map((i) => i.id);
    assert.deepEqual(listed, [base.id, leaf.id, digested.id, tagged.id, lone.id]);
  });

  it('a tagged image is listed even when it has children', () => {
    assert.deepEqual(listedImages([base, image(`sha256:${hex('7')}`, { parent: base.id })]).map((i) => i.id), [
      base.id,
      `sha256:${hex('7')}`,
    ]);
  });

  it('a digested image with children is listed', () => {
    const child = image(`sha256:${hex('8')}`, { parent: digested.id });
    assert.deepEqual(listedImages([digested, child]).map((i) => i.id), [digested.id, child.id]);
  });
});

describe('classifyDirs', () => {
  const layerId = hex('a');
  const mountId = hex('b');
  const initId = `${mountId}-init`;
  const bkId = 'abcdefghijklmnopqrstuvwxy';
  const orphanId = hex('c');
  const layers: LayerFact[] = [
    { chainId: `sha256:${hex('1')}`, diffId: `sha256:${hex('1')}`, parent: null, cacheId: layerId, size: 10 },
    { chainId: `sha256:${hex('2')}`, diffId: `sha256:${hex('2')}`, parent: null, cacheId: null, size: null },
  ];
  const mounts: MountFact[] = [{ containerId: hex('d'), mountId, initId, parent: `sha256:${hex('1')}` }];

  it('names image layers, container mounts, init layers, build cache and orphans', () => {
    const roles = classifyDirs([layerId, mountId, initId, bkId, orphanId], layers, mounts, new Set([bkId]));
    assert.deepEqual(
      Object.fromEntries(roles),
      Object.fromEntries([
        [layerId, 'image-layer'],
        [mountId, 'container-layer'],
        [initId, 'container-init'],
        [bkId, 'build-cache'],
        [orphanId, 'orphan'],
      ]),
    );
  });

  it('classifies only the directories given, and a layer or mount record wins over build cache', () => {
    const roles = classifyDirs([layerId, initId], layers, mounts, new Set([layerId, initId]));
    assert.equal(roles.size, 2);
    assert.equal(roles.get(layerId), 'image-layer');
    assert.equal(roles.get(initId), 'container-init');
  });

  it('a mount without an init layer leaves a stray `-init` directory an orphan', () => {
    const noInit: MountFact[] = [{ containerId: hex('d'), mountId, initId: null, parent: null }];
    const roles = classifyDirs([mountId, initId], [], noInit, new Set());
    assert.equal(roles.get(mountId), 'container-layer');
    assert.equal(roles.get(initId), 'orphan');
  });
});
