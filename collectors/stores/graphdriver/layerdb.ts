// Layers as the daemon records them: `image/<driver>/layerdb/sha256/<chain>` for image layers and
// `layerdb/mounts/<container>` for containers' writable and init layers.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { ImageFact, LayerFact, MountFact, Problem } from '../../lib/facts.js';
import { chainIds } from '../../lib/oci.js';
import { describeError } from '../../lib/errors.js';
import { readEach } from '../../lib/map-limit.js';
import { readTextOrNull } from './read-text.js';

const DIGEST = /^sha256:[0-9a-f]{64}$/;
// overlay2 names layers by 64 hex characters; layers BuildKit made have 25-character ids; the
// init layer of a container is `<mount-id>-init`.
const CACHE_ID = /^[0-9a-z]{25}$|^[0-9a-f]{64}(-init)?$/;

export interface LayerFiles {
  diff: string | null;
  cacheId: string | null;
  size: string | null;
  parent: string | null;
}

/** One layerdb entry from its files' texts; problems are returned, not thrown, so the rest is kept. */
export function parseLayerEntry(chainId: string, f: LayerFiles): { layer: LayerFact; problems: string[] } {
  const problems: string[] = [];
  const diffId = f.diff?.trim() ?? '';
  if (!DIGEST.test(diffId)) problems.push(f.diff === null ? 'diff missing' : 'diff is not a sha256 digest');
  const cacheId = f.cacheId?.trim() ?? '';
  const cacheOk = CACHE_ID.test(cacheId);
  if (!cacheOk) problems.push(f.cacheId === null ? 'cache-id missing' : 'cache-id is not a layer id');
  const sizeText = f.size?.trim() ?? '';
  const size = /^\d+$/.test(sizeText) ? Number(sizeText) : null;
  if (f.size !== null && size === null) problems.push('size is not a number');
  const parent = f.parent?.trim() || null;
  if (parent !== null && !DIGEST.test(parent)) problems.push('parent is not a sha256 digest');
  return {
    layer: { chainId, diffId, parent: parent && DIGEST.test(parent) ? parent : null, cacheId: cacheOk ? cacheId : null, size },
    problems,
  };
}

async function readFiles(dir: string, names: string[]): Promise<(string | null)[]> {
  return Promise.all(names.map((n) => readTextOrNull(join(dir, n))));
}

async function listOrEmpty(dir: string, problems: Problem[]): Promise<string[]> {
  try {
    return (await fsp.readdir(dir)).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') problems.push({ path: dir, message: describeError(e) });
    return [];
  }
}

/** One layerdb entry, `<layerdb>/sha256/<hex>`; null (and a problem) when it cannot be read at all. */
async function readLayer(dir: string, hex: string, problems: Problem[]): Promise<LayerFact | null> {
  const path = join(dir, hex);
  try {
    const [[diff, cacheId, size, parent], tarSplit] = await Promise.all([
      readFiles(path, ['diff', 'cache-id', 'size', 'parent']),
      fsp.stat(join(path, 'tar-split.json.gz')).catch(() => null),
    ]);
    const found = parseLayerEntry(`sha256:${hex}`, {
      diff: diff ?? null,
      cacheId: cacheId ?? null,
      size: size ?? null,
      parent: parent ?? null,
    });
    for (const p of found.problems) problems.push({ path, message: p });
    return tarSplit ? { ...found.layer, tarSplitBytes: tarSplit.size } : found.layer;
  } catch (e) {
    problems.push({ path, message: describeError(e) });
    return null;
  }
}

export async function readLayers(imageDir: string, problems: Problem[]): Promise<LayerFact[]> {
  const dir = join(imageDir, 'layerdb', 'sha256');
  // A few at a time: thousands of reads at once hold as many descriptors and promises.
  const hexes = (await listOrEmpty(dir, problems)).filter((hex) => /^[0-9a-f]{64}$/.test(hex));
  return readEach(hexes, problems, (hex, own) => readLayer(dir, hex, own));
}

/**
 * Images and layers are read side by side while the daemon writes, so an image can come without
 * its layers: `docker rmi` deletes the image's config before it releases the layers, and a pull,
 * import or build registers the layers before it writes the image. Each image whose layers are
 * not all among those read is looked at again: gone now, it was removed during the scan and is
 * left out; still there, its missing layers are read again (made during the scan), and a layer
 * still missing is named, since the image's figures would silently leave it out.
 */
export async function settleImageLayers(
  imageDir: string,
  images: ImageFact[],
  layers: LayerFact[],
  problems: Problem[],
): Promise<{ images: ImageFact[]; layers: LayerFact[] }> {
  const have = new Set(layers.map((l) => l.chainId));
  const torn = images.filter((i) => chainIds(i.diffIds).some((c) => !have.has(c)));
  if (torn.length === 0) return { images, layers };
  const dir = join(imageDir, 'layerdb', 'sha256');
  const gone = new Set<string>();
  const added = new Map<string, LayerFact>();
  for (const img of torn) {
    const config = join(imageDir, 'imagedb', 'content', 'sha256', img.id.replace(/^sha256:/, ''));
    if (!(await fsp.access(config).then(() => true, () => false))) {
      gone.add(img.id);
      continue;
    }
    for (const chainId of chainIds(img.diffIds)) {
      if (have.has(chainId) || added.has(chainId)) continue;
      const hex = chainId.replace(/^sha256:/, '');
      const again = await fsp.access(join(dir, hex)).then(() => readLayer(dir, hex, problems), () => null);
      if (again) added.set(chainId, again);
      else problems.push({ path: join(dir, hex), message: `layer of image ${img.id} missing from layerdb: the image's figures leave it out` });
    }
  }
  return { images: gone.size ? images.filter((i) => !gone.has(i.id)) : images, layers: added.size ? [...layers, ...added.values()] : layers };
}

export async function readMounts(imageDir: string, problems: Problem[]): Promise<MountFact[]> {
  const dir = join(imageDir, 'layerdb', 'mounts');
  // A few at a time, in order: one after the other, each read waits behind the walks' in the thread pool.
  return readEach(await listOrEmpty(dir, problems), problems, async (containerId, own): Promise<MountFact | null> => {
    const path = join(dir, containerId);
    try {
      const [mountId, initId, parent] = (await readFiles(path, ['mount-id', 'init-id', 'parent'])).map((t) => t?.trim() || null);
      if (!mountId || !CACHE_ID.test(mountId)) {
        own.push({ path, message: mountId ? 'mount-id is not a layer id' : 'mount-id missing' });
        return null;
      }
      return { containerId, mountId, initId: initId && CACHE_ID.test(initId) ? initId : null, parent: parent ?? null };
    } catch (e) {
      own.push({ path, message: describeError(e) });
      return null;
    }
  });
}
