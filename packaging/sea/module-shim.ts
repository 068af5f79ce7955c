// `node:module` for agent/ and collectors/ inside the single executable's bundle (packaging/bundle.ts
// resolves their imports of it here). They load two things with createRequire(import.meta.url),
// which in the bundle would look for files on disk: yargs' CommonJS build (agent/cli/command.ts),
// which the bundle holds, and the xattr addon (collectors/walk/tally.ts), a .node file the
// executable ships as an asset. Anything else goes to Node's own createRequire.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/** The addon's file name, as an asset of the executable and under /usr/lib/layerdu/ in the .deb. */
export const XATTR_ADDON = 'xattr.node';

/**
 * The xattr addon: the copy the .deb installs beside the executable (`<bin>/../lib/layerdu/`), or
 * else the executable's own, written to a private temporary directory, loaded and removed at once
 * (a loaded library stays mapped): nothing is left behind, and nothing is shared with another user.
 */
function loadAddon(name: string): unknown {
  const mod = { exports: {} as unknown };
  const beside = path.resolve(path.dirname(process.execPath), '..', 'lib', 'layerdu', name);
  if (existsSync(beside)) {
    process.dlopen(mod, beside);
    return mod.exports;
  }
  const sea = require('node:sea') as typeof import('node:sea');
  const dir = mkdtempSync(path.join(tmpdir(), 'layerdu-'));
  try {
    const file = path.join(dir, name);
    writeFileSync(file, new Uint8Array(sea.getAsset(name)), { mode: 0o500 });
    process.dlopen(mod, file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return mod.exports;
}

// Literal require() calls: esbuild bundles what they name.
const BUNDLED: Record<string, () => unknown> = {
  'yargs/yargs': () => require('yargs/yargs'),
  'yargs/helpers': () => require('yargs/helpers'),
  '@napi-rs/xattr': () => loadAddon(XATTR_ADDON),
};

const loaded = new Map<string, unknown>();

export function createRequire(from: string | URL): (id: string) => unknown {
  const real = nodeModule.createRequire(from);
  return (id: string) => {
    const bundled = BUNDLED[id];
    if (!bundled) return real(id);
    if (!loaded.has(id)) loaded.set(id, bundled());
    return loaded.get(id);
  };
}
