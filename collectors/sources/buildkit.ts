// Which overlay2 directories belong to BuildKit's cache. BuildKit names its snapshots with
// 25-character base36 ids and records them only in the bbolt files under <docker-root>/buildkit
// (cache.db, snapshots.db, metadata_v2.db, containerdmeta.db). A directory with such a name that no
// db mentions is a leak; one that a db mentions is cache, which `docker builder prune` can reclaim.

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseBolt, walk, type BoltDb } from '../lib/bbolt.js';
import type { Problem } from '../lib/facts.js';

// The ids sit in different places in each schema and Docker version: snapshot keys and "parent"
// values in snapshots.db, record keys and JSON `{"value":"<id>"}` in metadata_v2.db, "moby::<id>"
// in cache.db, bucket names under v1/<ns>/snapshots in containerdmeta.db. Rather than chase every
// schema, we take each 25-char [a-z0-9] token standing alone in any key or value of the properly
// parsed tree. Parsing first matters: raw `strings` over the file also sees stale freed pages and
// glues adjacent keys together. No letter/digit mix is required: a real id that happens to be all
// letters must not be called a leak, while a stray token only matters if a directory has its name.
const ID_TOKEN = /(?<![a-z0-9])[a-z0-9]{25}(?![a-z0-9])/g;

export function extractBuildCacheIds(db: BoltDb): Set<string> {
  const ids = new Set<string>();
  const scan = (bytes: Buffer): void => {
    if (bytes.length < 25) return;
    for (const m of bytes.toString('latin1').matchAll(ID_TOKEN)) ids.add(m[0]);
  };
  walk(db, (_path, key, value) => {
    scan(key);
    if (value !== null) scan(value);
  });
  return ids;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function idsOfFile(path: string): Promise<Set<string>> {
  // dockerd may commit while we read (readFile is not atomic), which can tear the copy; a second
  // read almost always lands between commits. We never open for writing or flock: dockerd holds
  // the files and would block or be blocked by us.
  try {
    return extractBuildCacheIds(parseBolt(await readFile(path)));
  } catch {
    return extractBuildCacheIds(parseBolt(await readFile(path)));
  }
}

export async function readBuildCacheIds(buildkitDir: string, problems: Problem[]): Promise<Set<string>> {
  const ids = new Set<string>();
  let names: string[];
  try {
    const entries = await readdir(buildkitDir, { withFileTypes: true });
    names = entries.filter((e) => e.isFile() && e.name.endsWith('.db')).map((e) => e.name).sort();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // No BuildKit build ever ran on this host: no cache, and nothing wrong.
    if (code === 'ENOENT' || code === 'ENOTDIR') return ids;
    problems.push({ path: buildkitDir, message: message(err) });
    return ids;
  }
  for (const name of names) {
    const path = join(buildkitDir, name);
    try {
      for (const id of await idsOfFile(path)) ids.add(id);
    } catch (err) {
      problems.push({ path, message: message(err) });
    }
  }
  return ids;
}

/** What BuildKit's `snapshots.db` says of image layers (the classic store, where BuildKit commits into Docker's layer store). */
export interface BuildkitChains {
  /** The image layer (chain id) each BuildKit snapshot directory's content became. */
  dirs: Map<string, string>;
  /**
   * Every layer chain a BuildKit record holds a reference to: Docker's layer store keeps such a
   * layer after its image is gone, until `docker builder prune` drops the record.
   */
  held: Set<string>;
}

/**
 * A record with a `chainid` holds that layer; with a `committed` snapshot as well, that directory's
 * content is that layer. `docker builder prune` without -a keeps a record while an image holds the
 * layer (BuildKit's "shared" cache).
 */
export function parseBuildkitChains(db: BoltDb): BuildkitChains {
  const fields = new Map<string, Map<string, string>>();
  walk(db, (path, key, value) => {
    if (path.length !== 1 || value === null) return;
    const record = path[0]!.toString('latin1');
    const f = fields.get(record) ?? new Map<string, string>();
    f.set(key.toString('latin1'), value.toString('latin1'));
    fields.set(record, f);
  });
  const out: BuildkitChains = { dirs: new Map(), held: new Set() };
  for (const f of fields.values()) {
    const chain = f.get('chainid');
    const dir = f.get('committed');
    if (chain) out.held.add(chain);
    if (chain && dir) out.dirs.set(dir, chain);
  }
  return out;
}

export async function readBuildkitChains(buildkitDir: string, problems: Problem[]): Promise<BuildkitChains> {
  const path = join(buildkitDir, 'snapshots.db');
  try {
    return parseBuildkitChains(parseBolt(await readFile(path)));
  } catch (err) {
    // No BuildKit build on this host, or the containerd store (BuildKit keeps no snapshots.db there).
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') problems.push({ path, message: message(err) });
    return { dirs: new Map(), held: new Set() };
  }
}

