// The single executable: this Node (process.execPath, stripped of its debug symbols) with the
// bundle injected as a Node single executable application (node --experimental-sea-config, then
// postject), carrying two assets: the API worker thread's script and the xattr addon.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type { Bundles } from './bundle.js';
import { XATTR_ADDON } from './sea/module-shim.js';

/** The fuse Node's single executable support looks for (Node's documentation gives it). */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

const require = createRequire(import.meta.url);

/** The xattr addon's prebuilt .node file for this machine (@napi-rs/xattr's platform package). */
export function xattrAddonFile(): string {
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error(`npm run package: no xattr addon for ${process.platform}-${process.arch} (linux-x64 only)`);
  return require.resolve('@napi-rs/xattr-linux-x64-gnu/xattr.linux-x64-gnu.node');
}

/** Runs a command, throwing with its output when it fails. */
export function must(cmd: string, args: string[], opts: { cwd?: string; input?: string } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.error?.message ?? `exit ${r.status ?? r.signal}`}\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** Builds the executable at `out` from the bundles (work files in `work`). */
export function buildSea(bundles: Bundles, work: string, out: string): void {
  const config = path.join(work, 'sea-config.json');
  const blob = path.join(work, 'sea-prep.blob');
  writeFileSync(
    config,
    JSON.stringify({
      main: bundles.main,
      output: blob,
      disableExperimentalSEAWarning: true,
      // V8's code cache of the main script: a shorter start-up (every report waits for it).
      useCodeCache: true,
      assets: { [path.basename(bundles.worker)]: bundles.worker, [XATTR_ADDON]: xattrAddonFile() },
    }),
  );
  must(process.execPath, ['--experimental-sea-config', config]);
  copyFileSync(process.execPath, out);
  chmodSync(out, 0o755);
  // Official Node builds keep their debug symbols (about 12 MB); the injected blob goes in a note
  // of its own, added after this.
  must('strip', ['--strip-all', out]);
  must(process.execPath, [require.resolve('postject/dist/cli.js'), out, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE]);
}
