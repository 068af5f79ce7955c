// Named volumes of the `local` driver: `volumes/<name>/_data`, and what the volume store records
// of each in `volumes/metadata.db` (bbolt, bucket `volumes`: name → JSON with its labels).
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { bucketEntries, type BoltDb, type BoltEntry } from '../lib/bbolt.js';
import type { Problem, VolumeFact } from '../lib/facts.js';
import { describeError } from '../lib/errors.js';
import { readBoltFile } from '../stores/containerd/read-bolt.js';
import { walkTree } from '../walk/walk-tree.js';
import { labelsOf } from './containers.js';

/** Docker 23+ marks the volumes it makes for a container's anonymous mounts with this label. */
export const ANONYMOUS = 'com.docker.volume.anonymous';

/** Each recorded volume's labels; a record that is not JSON is named and skipped. */
export function parseVolumeLabels(db: BoltDb, problems: Problem[], source: string): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  let entries: BoltEntry[] | null;
  try {
    entries = bucketEntries(db, ['volumes']);
  } catch (err) {
    // A broken page: no volume's labels are known, so none is called anonymous.
    problems.push({ path: `${source} volumes`, message: `unreadable, no volume taken for anonymous: ${describeError(err)}` });
    return out;
  }
  // The volume store makes its bucket when it opens the file: without it the file is not its own.
  if (entries === null) {
    problems.push({ path: source, message: 'no volumes bucket, no volume taken for anonymous: not a volume store metadata.db, or its root page is corrupt' });
    return out;
  }
  for (const e of entries) {
    if (e.value === null) continue;
    const name = e.key.toString('utf8');
    try {
      const doc = JSON.parse(e.value.toString('utf8')) as { Labels?: unknown } | null;
      out.set(name, labelsOf(doc?.Labels));
    } catch (err) {
      problems.push({ path: `${source} volumes/${name}`, message: describeError(err) });
    }
  }
  return out;
}

export async function readVolumes(volumesDir: string, problems: Problem[]): Promise<VolumeFact[]> {
  let entries;
  try {
    entries = await fsp.readdir(volumesDir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') problems.push({ path: volumesDir, message: describeError(e) });
    return [];
  }
  // Docker before 23 keeps no labels that tell anonymous volumes, and prunes every unused one.
  const metaPath = join(volumesDir, 'metadata.db');
  const present = await fsp.lstat(metaPath).then(() => true, () => false);
  const db = present ? await readBoltFile(metaPath, problems) : null;
  const labels = db ? parseVolumeLabels(db, problems, metaPath) : new Map<string, Record<string, string>>();
  const volumes: VolumeFact[] = [];
  for (const e of entries.filter((d) => d.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const data = join(volumesDir, e.name, '_data');
    // Volumes of other drivers keep no `_data` here: their bytes live elsewhere.
    if (!(await fsp.lstat(data).then(() => true, () => false))) continue;
    // Most volumes hold a few files: tried on this thread before a walker starts for one.
    const { size } = await walkTree(data, { problems, smallFirst: true });
    volumes.push({ name: e.name, bytes: { disk: size.disk, apparent: size.apparent }, anonymous: labels.get(e.name)?.[ANONYMOUS] !== undefined });
  }
  return volumes;
}
