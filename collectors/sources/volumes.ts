// Named volumes of the `local` driver: `volumes/<name>/_data`.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { Problem, VolumeFact } from '../lib/facts.js';
import { describeError } from '../lib/errors.js';
import { walkTree } from '../walk/walk-tree.js';

export async function readVolumes(volumesDir: string, problems: Problem[]): Promise<VolumeFact[]> {
  let entries;
  try {
    entries = await fsp.readdir(volumesDir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') problems.push({ path: volumesDir, message: describeError(e) });
    return [];
  }
  const volumes: VolumeFact[] = [];
  for (const e of entries.filter((d) => d.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const data = join(volumesDir, e.name, '_data');
    // Volumes of other drivers keep no `_data` here: their bytes live elsewhere.
    if (!(await fsp.lstat(data).then(() => true, () => false))) continue;
    const { size } = await walkTree(data, { problems });
    volumes.push({ name: e.name, bytes: { disk: size.disk, apparent: size.apparent } });
  }
  return volumes;
}
