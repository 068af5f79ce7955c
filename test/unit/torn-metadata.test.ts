// Images and layers read side by side while the daemon writes (issue 14, torn reads): an image
// read before `docker rmi` removed it, whose layers were read after it released them, or an image
// written after its layers were listed. settleImageLayers (collectors/stores/graphdriver/layerdb.ts)
// reads such an image and its layers again, rather than report an image whose layers are silently
// missing from layers[].
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Problem } from '../../collectors/lib/facts.js';
import { readImages } from '../../collectors/stores/graphdriver/imagedb.js';
import { readLayers, settleImageLayers } from '../../collectors/stores/graphdriver/layerdb.js';

const hex = (c: string) => c.repeat(64);
const CACHE = 'a'.repeat(64);

async function writeImage(imageDir: string, id: string, diffIds: string[]): Promise<void> {
  const dir = path.join(imageDir, 'imagedb', 'content', 'sha256');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, id), JSON.stringify({ rootfs: { type: 'layers', diff_ids: diffIds } }));
}

async function writeLayer(imageDir: string, diffId: string): Promise<void> {
  // A bottom layer's chain id is its diff id.
  const dir = path.join(imageDir, 'layerdb', 'sha256', diffId.replace(/^sha256:/, ''));
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'diff'), diffId);
  await writeFile(path.join(dir, 'cache-id'), CACHE);
  await writeFile(path.join(dir, 'size'), '0');
}

describe('images and layers read across a change (graphdriver/layerdb.ts settleImageLayers)', () => {
  let imageDir = '';
  beforeEach(async () => {
    imageDir = path.join(await mkdtemp(path.join(tmpdir(), 'ldu-torn-')), 'image', 'overlay2');
    await mkdir(path.join(imageDir, 'layerdb', 'sha256'), { recursive: true });
  });
  afterEach(async () => {
    await rm(path.dirname(path.dirname(imageDir)), { recursive: true, force: true });
  });

  it('leaves a consistent read as it is', async () => {
    await writeImage(imageDir, hex('1'), [`sha256:${hex('d')}`]);
    await writeLayer(imageDir, `sha256:${hex('d')}`);
    const problems: Problem[] = [];
    const images = await readImages(imageDir, problems);
    const layers = await readLayers(imageDir, problems);
    const s = await settleImageLayers(imageDir, images, layers, problems);
    assert.equal(s.images, images);
    assert.equal(s.layers, layers);
    assert.deepEqual(problems, []);
  });

  it('drops an image that docker rmi removed after it was read (its layers released meanwhile)', async () => {
    await writeImage(imageDir, hex('1'), [`sha256:${hex('d')}`]);
    await writeLayer(imageDir, `sha256:${hex('d')}`);
    const problems: Problem[] = [];
    const images = await readImages(imageDir, problems);
    // rmi: the config goes first, then the layer
    await rm(path.join(imageDir, 'imagedb', 'content', 'sha256', hex('1')));
    await rm(path.join(imageDir, 'layerdb', 'sha256', hex('d')), { recursive: true });
    const layers = await readLayers(imageDir, problems);
    const s = await settleImageLayers(imageDir, images, layers, problems);
    assert.deepEqual(s.images, []);
    assert.deepEqual(s.layers, []);
    assert.deepEqual(problems, []);
  });

  it('reads again a layer registered after the layers were listed (an import or a build)', async () => {
    const problems: Problem[] = [];
    const layers = await readLayers(imageDir, problems);
    await writeLayer(imageDir, `sha256:${hex('d')}`);
    await writeImage(imageDir, hex('1'), [`sha256:${hex('d')}`]);
    const images = await readImages(imageDir, problems);
    const s = await settleImageLayers(imageDir, images, layers, problems);
    assert.equal(s.images.length, 1);
    assert.deepEqual(s.layers.map((l) => [l.chainId, l.cacheId]), [[`sha256:${hex('d')}`, CACHE]]);
    assert.deepEqual(problems, []);
  });

  it('names a layer an image still there names but layerdb does not hold', async () => {
    await writeImage(imageDir, hex('1'), [`sha256:${hex('d')}`]);
    const problems: Problem[] = [];
    const s = await settleImageLayers(imageDir, await readImages(imageDir, problems), await readLayers(imageDir, problems), problems);
    assert.equal(s.images.length, 1, 'the image is kept');
    assert.deepEqual(problems, [
      { path: path.join(imageDir, 'layerdb', 'sha256', hex('d')), message: `layer of image sha256:${hex('1')} missing from layerdb: the image's figures leave it out` },
    ]);
  });
});
