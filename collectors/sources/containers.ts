// Containers from `containers/<id>/config.v2.json`, with their log files (json-file logs and
// their rotated `.N` / `.N.gz` siblings, or the `local` driver's `local-logs/`).
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { Bytes, ContainerFact, ContainerState, Problem } from '../lib/facts.js';
import { describeError } from '../lib/errors.js';
import { readEach } from '../lib/map-limit.js';
import { readContainerLog } from './log-config.js';

/** What config.v2.json tells of a container; the logs are read beside it. */
export type ContainerConfig = Pick<ContainerFact, 'id' | 'name' | 'imageId' | 'state' | 'volumes' | 'labels'>;

interface ConfigV2 {
  ID?: string;
  Name?: string;
  Image?: string;
  State?: { Running?: boolean; Paused?: boolean; Restarting?: boolean; Dead?: boolean; RemovalInProgress?: boolean; StartedAt?: string };
  MountPoints?: Record<string, { Type?: string; Name?: string; Driver?: string }>;
  Config?: { Labels?: Record<string, unknown> | null };
}

/** Docker's zero time: a container that was created and never started. */
const NEVER = /^0001-01-01T/;

/** Docker's own order (container.State.StateString): a running container is running first. */
export function stateOf(s: ConfigV2['State']): ContainerState {
  if (!s) return 'unknown';
  if (s.Running) return s.Paused ? 'paused' : s.Restarting ? 'restarting' : 'running';
  if (s.RemovalInProgress) return 'removing';
  if (s.Dead) return 'dead';
  if (!s.StartedAt || NEVER.test(s.StartedAt)) return 'created';
  return 'exited';
}

export function parseContainerConfig(text: string): ContainerConfig {
  const doc = JSON.parse(text) as ConfigV2 | null;
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new Error('not a JSON object');
  if (typeof doc.ID !== 'string' || !/^[0-9a-f]{64}$/.test(doc.ID)) throw new Error('no valid ID');
  const volumes = Object.values(doc.MountPoints ?? {})
    .filter((m) => m?.Type === 'volume' && typeof m.Name === 'string' && m.Name !== '')
    .map((m) => m.Name as string);
  return {
    id: doc.ID,
    name: typeof doc.Name === 'string' ? doc.Name.replace(/^\//, '') : '',
    imageId: typeof doc.Image === 'string' ? doc.Image : '',
    state: stateOf(doc.State),
    volumes: [...new Set(volumes)].sort(),
    labels: labelsOf(doc.Config?.Labels),
  };
}

/**
 * `Config.Labels`: string values only. Docker writes `null` for a container created without
 * labels; a non-string value (a hand-edited file) is dropped rather than failing the container.
 */
export function labelsOf(raw: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return out;
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** Whether a file in `containers/<id>/` is one of the container's json-file logs. */
export function isJsonLog(id: string, name: string): boolean {
  const log = `${id}-json.log`;
  // The prefix first: a pattern made for every name of every container's directory is costly.
  return name === log || (name.startsWith(`${log}.`) && /^\d+(\.gz)?$/.test(name.slice(log.length + 1)));
}

export async function sumFiles(paths: string[], problems: Problem[]): Promise<Bytes & { files: number }> {
  const total = { disk: 0, apparent: 0, files: 0 };
  for (const p of paths) {
    try {
      const st = await fsp.lstat(p);
      if (!st.isFile()) continue;
      total.disk += st.blocks * 512;
      total.apparent += st.size;
      total.files += 1;
    } catch (e) {
      // A log rotated away between readdir and lstat is churn, not a problem.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') problems.push({ path: p, message: describeError(e) });
    }
  }
  return total;
}

async function logFiles(dir: string, id: string): Promise<string[]> {
  const names = await fsp.readdir(dir);
  const files = names.filter((n) => isJsonLog(id, n)).map((n) => join(dir, n));
  const local = join(dir, 'local-logs');
  const localNames = await fsp.readdir(local).catch(() => [] as string[]);
  return files.concat(localNames.map((n) => join(local, n)));
}

export async function readContainers(containersDir: string, problems: Problem[]): Promise<ContainerFact[]> {
  let ids: string[];
  try {
    ids = (await fsp.readdir(containersDir)).filter((n) => /^[0-9a-f]{64}$/.test(n)).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') problems.push({ path: containersDir, message: describeError(e) });
    return [];
  }
  // A few containers at a time; each one's problems kept in the order of the ids.
  return readEach(ids, problems, (dirId, own) => readContainer(containersDir, dirId, own));
}

/** One container's config and logs; null when it is gone or its config is unreadable (a problem then). */
async function readContainer(containersDir: string, dirId: string, problems: Problem[]): Promise<ContainerFact | null> {
  const dir = join(containersDir, dirId);
  const configPath = join(dir, 'config.v2.json');
  let config: ContainerConfig;
  try {
    config = parseContainerConfig(await fsp.readFile(configPath, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null; // removed while we looked
    problems.push({ path: configPath, message: `container skipped: ${describeError(e)}` });
    return null;
  }
  let logs = { disk: 0, apparent: 0, files: 0 };
  let logPaths: string[] = [];
  try {
    logPaths = await logFiles(dir, dirId);
    logs = await sumFiles(logPaths, problems);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') problems.push({ path: dir, message: describeError(e) });
  }
  const log = await readContainerLog(dir, problems);
  return { ...config, logs: { disk: logs.disk, apparent: logs.apparent }, logFiles: logs.files, logPaths, ...(log ? { log } : {}) };
}
