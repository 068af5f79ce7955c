// The npm build's executable: `npm run build` bundles the agent with esbuild into dist/bin/, as
// ES modules split along the dynamic imports (what only the agent or only a renderer needs stays
// in chunks of its own, loaded when asked for). Node's module loader costs about 1.5 ms a
// module here, and a report loaded 91 of ours: from the bundle it loads 23 files (an empty
// root's report 0.235 s to 0.20 s). The npm packages stay in node_modules, loaded as they are
// (yargs' CommonJS build, the xattr addon).
//
// The walker child process and the Docker API thread are entry points of their own, beside the
// main one: the code that starts them finds them next to itself (`new URL('./walk-child.js',
// import.meta.url)`), so every output lies flat in one directory.
import { build } from 'esbuild';
import { chmod, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from './paths.js';

/** Where `layerdu.js` goes: package.json's `bin`, the systemd unit's and the tests' CLI. */
const BIN_DIR = path.join(REPO_ROOT, 'dist', 'bin');

export async function bundleBin(outDir = BIN_DIR): Promise<void> {
  await rm(outDir, { recursive: true, force: true });
  await build({
    absWorkingDir: REPO_ROOT,
    entryPoints: {
      layerdu: 'agent/cli/main.ts',
      'walk-child': 'collectors/walk/walk-child.ts',
      'docker-api-worker': 'collectors/sources/docker-api-worker.ts',
    },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outdir: outDir,
    chunkNames: 'chunk-[hash]',
    packages: 'external',
    // Not minified: a stack trace in a bug report reads as the sources do (each module's code
    // under a comment naming its file).
    keepNames: true,
    logLevel: 'warning',
    legalComments: 'none',
  });
  await chmod(path.join(outDir, 'layerdu.js'), 0o755);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await bundleBin();
