// Whether this process is layerdu's single executable (`npm run package`: one esbuild bundle
// injected into Node as a single executable application), and the two things that start
// differently there. The executable holds no module files to start by path, so:
// - a walker child process is the executable itself, started with SEA_WALK_CHILD as its first
//   argument (packaging/sea/entry.ts runs the walker for it);
// - a worker thread runs the code the executable carries as an asset of the same name.
// (The xattr addon and yargs' CommonJS build, loaded with createRequire, are resolved by the
// bundle itself: packaging/sea/module-shim.ts.)
import { createRequire } from 'node:module';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkerOptions } from 'node:worker_threads';

/** The first argument that makes the executable a walker child process. */
export const SEA_WALK_CHILD = '--layerdu-walk-child';

type Sea = typeof import('node:sea');

let sea: Sea | null | undefined;

function seaModule(): Sea | null {
  if (sea === undefined) {
    try {
      // node:sea arrived in Node 20.12; before it there is no single executable to be.
      const m = createRequire(import.meta.url)('node:sea') as Sea;
      sea = m.isSea() ? m : null;
    } catch {
      sea = null;
    }
  }
  return sea;
}

export function isSea(): boolean {
  return seaModule() !== null;
}

/** What `fork` starts for the walker child module at `url`: the module, or the executable's role. */
export function walkChildModule(url: URL): string {
  return isSea() ? SEA_WALK_CHILD : fileURLToPath(url);
}

/** What `new Worker` runs for the thread module at `url`: the module, or the asset named after it. */
export function threadScript(url: URL): [string | URL, WorkerOptions] {
  const s = seaModule();
  return s ? [s.getAsset(basename(url.pathname), 'utf8'), { eval: true }] : [url, {}];
}
