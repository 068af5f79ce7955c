// The layer cache on disk (issue 16): one file per docker root under --cache.dir, in the format
// of layer-cache-format.ts; where it may live, how it is named, read and written, and the stamp
// that tells whether a kept walk still holds.
import { createHash, randomBytes } from 'node:crypto';
import { constants as fsc, promises as fsp } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import type { Bytes } from '../../collectors/lib/facts.js';
import { decodeLayerCache, encodeLayerCache, type LayerStamp, type WasteFigures } from './layer-cache-format.js';
import type { LayerCache } from './walk-dirs.js';

/** One lstat of the layer's directory: a directory removed and made again has a new inode or ctime. */
export async function readStamp(path: string, record: string): Promise<LayerStamp | null> {
  try {
    const st = await fsp.lstat(path, { bigint: true });
    return { ino: st.ino, dev: st.dev, ctimeNs: st.ctimeNs, record };
  } catch {
    return null;
  }
}

/** One cache file for each docker root (and containerd root): scans of other roots never share entries. */
export function cacheFileName(dockerRoot: string, containerdRoot: string | undefined): string {
  const id = createHash('sha256').update(`${resolve(dockerRoot)}\n${containerdRoot ? resolve(containerdRoot) : ''}`).digest('hex').slice(0, 16);
  return `layers-${id}.cache`;
}

/** What every scan's cache holds now, to tell whether it changed since it was read or written. */
export function cacheSignature(cache: LayerCache, waste: ReadonlyMap<string, Bytes> = new Map()): string {
  const layers = [...cache]
    .filter(([, w]) => w.stamp)
    .map(([k, w]) => `${k} ${w.stamp!.ino} ${w.stamp!.dev} ${w.stamp!.ctimeNs} ${w.stamp!.record} ${w.index?.table ? 't' : ''}`);
  return [...layers, ...[...waste.keys()].map((k) => `waste ${k}`)].sort().join('\n');
}

async function realpathOfNearest(p: string): Promise<string> {
  let at = resolve(p);
  const rest: string[] = [];
  for (;;) {
    try {
      return join(await fsp.realpath(at), ...rest.reverse());
    } catch {
      const up = dirname(at);
      if (up === at) return resolve(p);
      rest.push(basename(at));
      at = up;
    }
  }
}

const inside = (p: string, root: string) => {
  const r = relative(root, p);
  return r === '' || (!r.startsWith(`..${sep}`) && r !== '..' && !r.startsWith(sep));
};

/**
 * Why `dir` may not hold the cache, or null: layerdu never writes under a docker or containerd
 * root (symlinks resolved, the nearest existing ancestor for a directory not made yet).
 */
export async function refuseCacheDir(dir: string, roots: { name: string; path: string }[]): Promise<string | null> {
  const real = await realpathOfNearest(dir);
  for (const r of roots) {
    const root = await realpathOfNearest(r.path);
    if (inside(real, root)) return `--cache.dir ${dir} is under the ${r.name} ${r.path}: layerdu never writes there`;
  }
  return null;
}

export type LoadResult =
  | { state: 'loaded'; cache: LayerCache; waste: WasteFigures; signature: string }
  /** No file (a first run), or one this process may not read: nothing to say. */
  | { state: 'absent'; cache: LayerCache; waste: WasteFigures; signature: string; detail?: string }
  /** A file that is there but of no use: worth one warning; the next save replaces it. */
  | { state: 'damaged'; cache: LayerCache; waste: WasteFigures; signature: string; reason: string };

export async function loadLayerCache(file: string, layerduVersion: string): Promise<LoadResult> {
  let buf: Buffer;
  try {
    buf = await fsp.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EPERM' || code === 'ENOTDIR') return { state: 'absent', cache: new Map(), waste: new Map(), signature: '', detail: code };
    return { state: 'damaged', cache: new Map(), waste: new Map(), signature: '', reason: (e as Error).message };
  }
  const r = decodeLayerCache(buf);
  if (!r.ok) return { state: 'damaged', cache: new Map(), waste: new Map(), signature: '', reason: r.reason };
  // Another build's walks may mean other figures: dropped without a warning, replaced at the next save.
  if (r.layerduVersion !== layerduVersion) return { state: 'absent', cache: new Map(), waste: new Map(), signature: '', detail: `written by layerdu ${r.layerduVersion}` };
  return { state: 'loaded', cache: r.entries, waste: r.waste, signature: cacheSignature(r.entries, r.waste) };
}

/**
 * Writes the cache atomically: a temporary file beside it, fsync, rename, fsync of the directory.
 * `create` makes the directory first (a --cache.dir given explicitly). Throws on failure.
 */
export async function saveLayerCache(file: string, cache: LayerCache, layerduVersion: string, opts: { create?: boolean; waste?: ReadonlyMap<string, Bytes> } = {}): Promise<void> {
  const dir = dirname(file);
  if (opts.create) await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  const data = encodeLayerCache(cache, layerduVersion, opts.waste);
  const tmp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await fsp.open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
  try {
    try {
      await fh.writeFile(data);
      // Root writing into a service's state directory: the file stays the directory owner's.
      if (process.getuid?.() === 0) {
        const st = await fsp.stat(dir);
        if (st.uid !== 0 || st.gid !== 0) await fh.chown(st.uid, st.gid);
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  const d = await fsp.open(dir, 'r').catch(() => null);
  if (d) await d.sync().catch(() => undefined).finally(() => d.close());
}
