// `npm run package`'s outputs for the tests, built once per source: in
// /var/tmp/layerdu-package/<key>/, the key a hash of every file the package is built from (and
// this Node), so a later run, or CI's fresh clone of the same commit, reuses it. One cache
// directory is kept; an older one is removed when a new one is built.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildPackage, type PackageOutput } from '../../packaging/package.js';
import { REPO_ROOT } from './oracles.js';

const CACHE = '/var/tmp/layerdu-package';
const SOURCES = ['agent', 'collectors', 'packaging', 'systemd', 'dashboards', 'package.json', 'package-lock.json', 'README.md'];

function filesUnder(rel: string): string[] {
  const abs = path.join(REPO_ROOT, rel);
  if (!existsSync(abs)) return [];
  if (!statSync(abs).isDirectory()) return [rel];
  return readdirSync(abs).sort().flatMap((n) => filesUnder(path.join(rel, n)));
}

/** The hash of what the package is built from: the sources' paths and contents, and this Node's version. */
export function packageKey(): string {
  const h = createHash('sha256').update(process.version);
  for (const f of SOURCES.flatMap(filesUnder)) h.update(`\0${f}\0`).update(readFileSync(path.join(REPO_ROOT, f)));
  return h.digest('hex').slice(0, 16);
}

let built: Promise<PackageOutput> | null = null;

/** The package of these sources: from the cache, else built now (a few minutes) and cached. */
export function cachedPackage(): Promise<PackageOutput> {
  built ??= (async () => {
    const dir = path.join(CACHE, packageKey());
    const done = path.join(dir, 'done.json');
    if (existsSync(done)) {
      const out = JSON.parse(readFileSync(done, 'utf8')) as PackageOutput;
      if (existsSync(out.binary) && existsSync(out.deb)) return out;
    }
    mkdirSync(CACHE, { recursive: true });
    for (const old of readdirSync(CACHE)) rmSync(path.join(CACHE, old), { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const out = await buildPackage(dir);
    writeFileSync(done, JSON.stringify(out));
    return out;
  })();
  return built;
}
