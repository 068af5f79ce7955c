// The single executable's JavaScript, bundled by esbuild from the TypeScript sources: its main
// script (packaging/sea/entry.ts: the whole agent, dockerode and the rest of node_modules in one
// CommonJS file) and the Docker API worker thread's script (collectors/sources/docker-api-worker.ts),
// which the executable carries as an asset (collectors/host/sea.ts).
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from './paths.js';

export interface Bundles {
  /** The main script. */
  main: string;
  /** The worker thread's script, named as collectors/host/sea.ts asks for it. */
  worker: string;
  /** The npm packages bundled, `name version (license)`, sorted. */
  packages: string[];
}

/** The npm packages whose files esbuild read, from its metafile. */
function packagesOf(inputs: string[]): string[] {
  const dirs = new Set<string>();
  for (const i of inputs) {
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(i);
    if (m) dirs.add(m[1]!);
  }
  const out = new Set<string>();
  for (const d of dirs) {
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, d, 'package.json'), 'utf8')) as { name: string; version: string; license?: string };
    out.add(`${pkg.name} ${pkg.version} (${pkg.license ?? 'see its package'})`);
  }
  return [...out].sort();
}

/** agent/ and collectors/ import node:module for createRequire: in the bundle they get module-shim.ts. */
const moduleShim: Plugin = {
  name: 'layerdu-module-shim',
  setup(b) {
    const shim = path.join(REPO_ROOT, 'packaging', 'sea', 'module-shim.ts');
    const ours = ['agent', 'collectors'].map((d) => path.join(REPO_ROOT, d) + path.sep);
    b.onResolve({ filter: /^(node:)?module$/ }, (args) => (ours.some((d) => args.importer.startsWith(d)) ? { path: shim } : undefined));
  },
};

/**
 * The native addons that dependencies try to load inside try/catch (ssh2's and cpu-features'
 * accelerations, for ssh:// daemons, which layerdu does not dial): in the bundle they fail to
 * load, as when they are not built, and those modules use their JavaScript fallbacks.
 */
const noOptionalAddons: Plugin = {
  name: 'layerdu-no-optional-addons',
  setup(b) {
    b.onResolve({ filter: /\.node$/ }, (args) => ({ path: args.path, namespace: 'optional-addon' }));
    b.onLoad({ filter: /.*/, namespace: 'optional-addon' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path}: native addon not in the single executable`)});`,
      loader: 'js',
    }));
  },
};

const COMMON: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // CommonJS has no import.meta: its url is the executable's (its file name there), which
  // collectors/host/sea.ts and the module shim use only to find builtins.
  define: { 'import.meta.url': '__layerdu_import_meta_url' },
  banner: { js: 'var __layerdu_import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
  plugins: [moduleShim, noOptionalAddons],
  logLevel: 'warning',
  legalComments: 'none',
  minify: true,
  // Error messages name no function; names kept all the same, for stack traces in bug reports.
  keepNames: true,
};

export async function bundle(outDir: string): Promise<Bundles> {
  const main = path.join(outDir, 'layerdu.cjs');
  const worker = path.join(outDir, 'docker-api-worker.js');
  const inputs: string[] = [];
  for (const [entry, outfile] of [[path.join(REPO_ROOT, 'packaging', 'sea', 'entry.ts'), main], [path.join(REPO_ROOT, 'collectors', 'sources', 'docker-api-worker.ts'), worker]] as const) {
    const r = await build({ ...COMMON, entryPoints: [entry], outfile, metafile: true, absWorkingDir: REPO_ROOT });
    inputs.push(...Object.keys(r.metafile.inputs));
  }
  return { main, worker, packages: packagesOf(inputs) };
}
