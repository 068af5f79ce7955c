// `npm run package`: the single executable (build/layerdu) and the Debian package
// (build/layerdu_<version>_amd64.deb), from the TypeScript sources and this machine's Node. Work
// files go to build/work/, removed after; dist/ is neither read nor emptied.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle } from './bundle.js';
import { buildDeb } from './deb.js';
import { manPage, parseHelp } from './manpage.js';
import { BUILD_DIR, REPO_ROOT } from './paths.js';
import { buildSea, must, xattrAddonFile } from './sea-binary.js';

export interface PackageOutput {
  version: string;
  /** The single executable. */
  binary: string;
  deb: string;
  /** The man page's roff, as the package holds it (gzipped). */
  man: string;
}

/** The Maintainer field: LAYERDU_DEB_MAINTAINER, else the project's placeholder. */
const MAINTAINER = process.env.LAYERDU_DEB_MAINTAINER || 'layerdu maintainers <maintainers@layerdu.invalid>';

/** The last commit's date (the same package from the same commit), else now. */
function sourceDate(): Date {
  const r = spawnSync('git', ['log', '-1', '--format=%cI'], { cwd: REPO_ROOT, encoding: 'utf8' });
  const d = r.status === 0 ? new Date(r.stdout.trim()) : new Date(NaN);
  return Number.isNaN(d.getTime()) ? new Date() : d;
}

export async function buildPackage(out: string = BUILD_DIR): Promise<PackageOutput> {
  const work = path.join(out, 'work');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const { version } = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  const bundles = await bundle(path.join(work, 'js'));
  const binary = path.join(out, 'layerdu');
  buildSea(bundles, work, binary);
  const said = must(binary, ['--version']).trim();
  if (said !== version) throw new Error(`${binary} --version says ${said}, package.json ${version}`);
  const date = sourceDate();
  const man = manPage(parseHelp(must(binary, ['--help'])), { version, date: date.toISOString().slice(0, 10) });
  const deb = buildDeb({
    binary,
    addon: xattrAddonFile(),
    man,
    work,
    out,
    facts: { version, maintainer: MAINTAINER, date, bundled: bundles.packages },
  });
  rmSync(work, { recursive: true, force: true });
  return { version, binary, deb, man };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const mib = (f: string) => `${(statSync(f).size / 2 ** 20).toFixed(1)} MiB`;
  const r = await buildPackage();
  process.stdout.write(`${path.relative(process.cwd(), r.binary)}  ${mib(r.binary)}\n${path.relative(process.cwd(), r.deb)}  ${mib(r.deb)}\n`);
}
