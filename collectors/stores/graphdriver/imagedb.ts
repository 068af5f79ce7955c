// Images as the daemon stores them: `image/<driver>/imagedb` (configs and parents) and
// `repositories.json` (tags and digests).
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { ImageFact, Problem } from '../../lib/facts.js';
import { describeError } from '../../lib/errors.js';
import { readEach } from '../../lib/map-limit.js';
import { readTextOrNull } from './read-text.js';

const SHA256_HEX = /^[0-9a-f]{64}$/;

export interface ImageConfig {
  diffIds: string[];
  created: string | null;
}

/** The parts of an image config (imagedb/content/sha256/<id>) that layerdu uses. */
export function parseImageConfig(text: string): ImageConfig {
  const doc = JSON.parse(text) as { rootfs?: { type?: string; diff_ids?: unknown }; created?: unknown };
  const ids = doc?.rootfs?.diff_ids;
  if (!Array.isArray(ids) || !ids.every((d) => typeof d === 'string' && /^sha256:[0-9a-f]{64}$/.test(d))) {
    throw new Error('no valid rootfs.diff_ids');
  }
  return { diffIds: ids as string[], created: typeof doc.created === 'string' ? doc.created : null };
}

export interface References {
  tags: string[];
  digests: string[];
}

/** repositories.json: `{"Repositories": {"repo": {"repo:tag" | "repo@sha256:…": "sha256:<id>"}}}`. */
export function parseRepositories(text: string): Map<string, References> {
  const doc = JSON.parse(text) as { Repositories?: Record<string, Record<string, string>> };
  const byImage = new Map<string, References>();
  for (const refs of Object.values(doc?.Repositories ?? {})) {
    for (const [ref, id] of Object.entries(refs ?? {})) {
      if (typeof id !== 'string') continue;
      const entry = byImage.get(id) ?? { tags: [], digests: [] };
      (ref.includes('@') ? entry.digests : entry.tags).push(ref);
      byImage.set(id, entry);
    }
  }
  for (const r of byImage.values()) {
    r.tags.sort();
    r.digests.sort();
  }
  return byImage;
}

export async function readImages(imageDir: string, problems: Problem[]): Promise<ImageFact[]> {
  const contentDir = join(imageDir, 'imagedb', 'content', 'sha256');
  const metaDir = join(imageDir, 'imagedb', 'metadata', 'sha256');

  let refs = new Map<string, References>();
  const reposPath = join(imageDir, 'repositories.json');
  try {
    const text = await readTextOrNull(reposPath);
    if (text !== null) refs = parseRepositories(text);
  } catch (e) {
    problems.push({ path: reposPath, message: `unreadable, images shown untagged: ${describeError(e)}` });
  }

  let names: string[];
  try {
    names = await fsp.readdir(contentDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') problems.push({ path: contentDir, message: describeError(e) });
    return [];
  }

  // A few at a time, in order: one after the other, each read waits behind the walks' in the thread pool.
  return readEach(names.filter((n) => SHA256_HEX.test(n)).sort(), problems, async (hex, own): Promise<ImageFact | null> => {
    const id = `sha256:${hex}`;
    const path = join(contentDir, hex);
    let config: ImageConfig;
    try {
      config = parseImageConfig(await fsp.readFile(path, 'utf8'));
    } catch (e) {
      own.push({ path, message: `image config skipped: ${describeError(e)}` });
      return null;
    }
    let parent: string | null = null;
    const parentPath = join(metaDir, hex, 'parent');
    try {
      const p = (await readTextOrNull(parentPath))?.trim();
      if (p) parent = p;
    } catch (e) {
      own.push({ path: parentPath, message: describeError(e) });
    }
    const r = refs.get(id);
    return { id, parent, diffIds: config.diffIds, tags: r?.tags ?? [], digests: r?.digests ?? [], created: config.created };
  });
}
