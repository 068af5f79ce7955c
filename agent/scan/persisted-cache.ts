// The layer cache as a run uses it: read once before the first scan, written after a scan that
// changed it. Nothing about it ever fails a report or stops the agent: a damaged file is one
// warning and is written anew, a directory this process may not write is left alone.
import { join } from 'node:path';
import type { Bytes } from '../../collectors/lib/facts.js';
import { cacheFileName, cacheSignature, loadLayerCache, refuseCacheDir, saveLayerCache } from './layer-cache-file.js';
import type { LayerCache } from './walk-dirs.js';

/** systemd's StateDirectory= (the first, when it names several), else /var/lib/layerdu. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const state = env.STATE_DIRECTORY?.split(':')[0];
  return state ? state : '/var/lib/layerdu';
}

export interface CacheSetup {
  dir: string;
  /** Given with --cache.dir: made when missing, and a failed write is worth a warning. */
  explicit: boolean;
  dockerRoot: string;
  containerdRoot?: string;
}

/** Why the directory may not hold the cache (under a docker or containerd root), or null. */
export function refuseCacheSetup(s: CacheSetup, containerdDefault: string): Promise<string | null> {
  return refuseCacheDir(s.dir, [
    { name: 'docker root', path: s.dockerRoot },
    { name: 'containerd root', path: s.containerdRoot ?? containerdDefault },
  ]);
}

const QUIET_WRITE = new Set(['ENOENT', 'EACCES', 'EPERM', 'EROFS']);

export class PersistedLayerCache {
  private warnedWrite = false;

  private constructor(
    readonly file: string,
    readonly cache: LayerCache,
    /** The images' waste figures, kept with the layers they follow from: the scan's wasteMemo. */
    readonly wasteMemo: { current: Map<string, Bytes> },
    private signature: string,
    private readonly setup: CacheSetup,
    private readonly version: string,
    private readonly warn: (message: string) => void,
  ) {}

  /** Reads the cache (or starts an empty one); a damaged file is one warning. */
  static async open(setup: CacheSetup, version: string, warn: (message: string) => void): Promise<PersistedLayerCache> {
    const file = join(setup.dir, cacheFileName(setup.dockerRoot, setup.containerdRoot));
    const r = await loadLayerCache(file, version);
    // A damaged file's signature is '' while the cache it leaves is empty: the first scan rewrites it.
    if (r.state === 'damaged') warn(`layer cache ${file} ignored (${r.reason}): every layer is walked and the cache written anew`);
    return new PersistedLayerCache(file, r.cache, { current: r.waste }, r.state === 'damaged' ? '\0damaged' : r.signature, setup, version, warn);
  }

  get size(): number {
    return this.cache.size;
  }

  /**
   * Writes the cache when the scan changed it (a layer walked, one gone, a stamp moved); the
   * check is a string of a few hundred keys, so it runs after every scan. Never throws.
   */
  async saveIfChanged(): Promise<'saved' | 'unchanged' | 'not written'> {
    const signature = cacheSignature(this.cache, this.wasteMemo.current);
    if (signature === this.signature) return 'unchanged';
    try {
      await saveLayerCache(this.file, this.cache, this.version, { create: this.setup.explicit, waste: this.wasteMemo.current });
      this.signature = signature;
      return 'saved';
    } catch (e) {
      // Not tried again until the cache changes: encoding it costs more than the check.
      this.signature = signature;
      // The default directory not there or not ours (a user's one-off report): no news.
      const quiet = !this.setup.explicit && QUIET_WRITE.has((e as NodeJS.ErrnoException).code ?? '');
      if (!quiet && !this.warnedWrite) {
        this.warnedWrite = true;
        this.warn(`layer cache not written to ${this.file}: ${(e as Error).message}`);
      }
      return 'not written';
    }
  }
}
