// The daemon's own configuration file, `/etc/docker/daemon.json` under `--path.rootfs`: read by
// whoever needs one of its keys (the storage driver, the containerd store, the default log
// options), one reader for all. Never required: a missing or unparsable file is no config.
import { promises as fsp } from 'node:fs';
import { resolve } from 'node:path';
import { rootfsPath, type HostPaths } from './paths.js';

export interface DaemonConfig {
  /** Where it was read, as this process sees it. */
  path: string;
  /** The parsed object (daemon.json's keys as dockerd spells them). */
  config: Record<string, unknown>;
}

/** daemon.json as an object, or null when it is missing, unreadable or not a JSON object. */
export async function readDaemonConfig(host: HostPaths): Promise<DaemonConfig | null> {
  const path = rootfsPath(host, 'etc', 'docker', 'daemon.json');
  try {
    const config = JSON.parse(await fsp.readFile(path, 'utf8')) as unknown;
    if (config === null || typeof config !== 'object' || Array.isArray(config)) return null;
    return { path, config: config as Record<string, unknown> };
  } catch {
    return null;
  }
}

/**
 * Whether the file speaks of the daemon whose root this is: its `"data-root"` (or the old
 * `"graph"`) names it, or it names none and this is the default `/var/lib/docker`. daemon.json
 * names host paths; the docker root is as this process sees it.
 */
export async function configIsAboutRoot(c: DaemonConfig, dockerRoot: string, host: HostPaths): Promise<boolean> {
  const { config } = c;
  const dataRoot = typeof config['data-root'] === 'string' ? config['data-root'] : typeof config.graph === 'string' ? config.graph : '/var/lib/docker';
  const [a, b] = await Promise.all([rootfsPath(host, dataRoot), dockerRoot].map((p) => fsp.realpath(p).catch(() => resolve(p))));
  return a === b;
}
