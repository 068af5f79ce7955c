// The Debian package, staged in a directory and built with dpkg-deb: the executable and its
// xattr addon, the systemd unit (installed, not enabled), /etc/default/layerdu (a conffile), the
// dashboards, rules and Alertmanager example under /usr/share/layerdu/, the man page, and
// maintainer scripts that enable nothing and purge cleanly (packaging/debian/).
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { must } from './sea-binary.js';
import { REPO_ROOT } from './paths.js';

export interface DebFacts {
  version: string;
  maintainer: string;
  /** The source's date: RFC 2822 for the changelog, its year for the copyright. */
  date: Date;
  /** Packages bundled into the executable, `name version (license)`. */
  bundled: string[];
}

/** Where each file goes, and the files the package's layout names. */
export const DEB_PATHS = {
  binary: 'usr/bin/layerdu',
  addon: 'usr/lib/layerdu/xattr.node',
  unit: 'lib/systemd/system/layerdu.service',
  defaults: 'etc/default/layerdu',
  share: 'usr/share/layerdu',
  man: 'usr/share/man/man1/layerdu.1.gz',
  doc: 'usr/share/doc/layerdu',
} as const;

const DESCRIPTION = `true disk usage of a Docker host, for Prometheus
 layerdu walks the docker root itself, rebuilds which images and containers
 share which layers, and counts every byte once: image layers shared and
 unique, what deleted files of lower layers still cost, what containers
 copied up, logs, volumes, build cache and leaked layer directories, and what
 each clean-up command would free. It works from disk metadata alone when the
 Docker API is down. One-off reports (text, JSON, Prometheus text, Graphviz)
 or an agent serving Prometheus metrics, with Grafana dashboards and alert
 rules.`;

/** The repository's unit with the package's paths: the executable, the man page. */
export function packagedUnit(unit: string): string {
  const swap = (text: string, from: RegExp, to: string) => {
    if ((text.match(new RegExp(from.source, 'gm')) ?? []).length !== 1) throw new Error(`systemd/layerdu.service: expected one line matching ${from}`);
    return text.replace(new RegExp(from.source, 'm'), to);
  };
  const body = unit.slice(unit.indexOf('[Unit]'));
  if (!unit.includes('[Unit]')) throw new Error('systemd/layerdu.service: no [Unit] section');
  let out = swap(body, /^ExecStart=.*\$LAYERDU_OPTS$/, 'ExecStart=/usr/bin/layerdu $LAYERDU_OPTS');
  out = swap(out, /^Documentation=.*$/, 'Documentation=man:layerdu(1)');
  return `# layerdu: true disk usage of this Docker host, for Prometheus (the Debian package's unit).
# Installed, not enabled: set options in /etc/default/layerdu, then systemctl enable --now layerdu.
${out}`;
}

function copyright(facts: DebFacts): string {
  return `layerdu

Copyright: ${facts.date.getUTCFullYear()} the layerdu authors
License: Apache-2.0

  Licensed under the Apache License, Version 2.0. On Debian systems the full text of the
  license is in /usr/share/common-licenses/Apache-2.0.

/usr/bin/layerdu is a Node.js ${process.version} single executable application: it contains
Node.js (MIT License, with the licenses of the libraries Node.js bundles listed in Node.js's
LICENSE file) and these npm packages, under their own licenses:

${facts.bundled.map((b) => `  ${b}`).join('\n')}

/usr/lib/layerdu/xattr.node is @napi-rs/xattr's prebuilt addon (MIT License).
`;
}

function changelog(facts: DebFacts): string {
  return `layerdu (${facts.version}) unstable; urgency=medium

  * Built by npm run package.

 -- ${facts.maintainer}  ${facts.date.toUTCString().replace(/GMT$/, '+0000')}
`;
}

function put(root: string, rel: string, data: string | Buffer, mode = 0o644): void {
  const file = path.join(root, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, data);
  chmodSync(file, mode);
}

function copy(root: string, rel: string, from: string, mode = 0o644): void {
  const file = path.join(root, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  copyFileSync(from, file);
  chmodSync(file, mode);
}

/** Every regular file under `dir`, relative to it, sorted. */
function filesUnder(dir: string, at = ''): string[] {
  return readdirSync(path.join(dir, at), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(dir, path.join(at, e.name)) : [path.join(at, e.name)]))
    .sort();
}

/** The package's runtime dependencies, as dpkg-shlibdeps finds them for the two ELF files. */
function shlibDepends(root: string, work: string): string {
  const dir = path.join(work, 'shlibdeps');
  put(dir, 'debian/control', 'Source: layerdu\n\nPackage: layerdu\nArchitecture: any\n');
  const out = must('dpkg-shlibdeps', ['-O', `-e${path.join(root, DEB_PATHS.binary)}`, `-e${path.join(root, DEB_PATHS.addon)}`], { cwd: dir });
  const m = /^shlibs:Depends=(.*)$/m.exec(out);
  if (!m) throw new Error(`dpkg-shlibdeps said: ${out}`);
  return m[1]!;
}

/**
 * Stages the package in `work` and builds `<out>/layerdu_<version>_amd64.deb`; returns its path.
 * `binary` and `addon` are the executable and the xattr addon; `man` the page's roff.
 */
export function buildDeb(opts: { binary: string; addon: string; man: string; work: string; out: string; facts: DebFacts }): string {
  const { facts } = opts;
  const root = path.join(opts.work, 'root');
  rmSync(root, { recursive: true, force: true });
  const repo = (...p: string[]) => path.join(REPO_ROOT, ...p);
  copy(root, DEB_PATHS.binary, opts.binary, 0o755);
  copy(root, DEB_PATHS.addon, opts.addon);
  put(root, DEB_PATHS.unit, packagedUnit(readFileSync(repo('systemd', 'layerdu.service'), 'utf8')));
  copy(root, DEB_PATHS.defaults, repo('packaging', 'debian', 'default'));
  for (const f of readdirSync(repo('dashboards')).sort()) {
    if (/^layerdu-.*\.json$|^provider\.yml$/.test(f)) copy(root, `${DEB_PATHS.share}/dashboards/${f}`, repo('dashboards', f));
    else if (/^layerdu\.rules(\.test)?\.yml$/.test(f)) copy(root, `${DEB_PATHS.share}/rules/${f}`, repo('dashboards', f));
    else if (f === 'alertmanager.example.yml') copy(root, `${DEB_PATHS.share}/${f}`, repo('dashboards', f));
  }
  put(root, DEB_PATHS.man, gzipSync(opts.man, { level: 9 }));
  put(root, `${DEB_PATHS.doc}/copyright`, copyright(facts));
  put(root, `${DEB_PATHS.doc}/changelog.gz`, gzipSync(changelog(facts), { level: 9 }));
  copy(root, 'usr/share/lintian/overrides/layerdu', repo('packaging', 'debian', 'lintian-overrides'));
  put(root, `${DEB_PATHS.doc}/README.md.gz`, gzipSync(readFileSync(repo('README.md')), { level: 9 }));

  const files = filesUnder(root);
  const installedKiB = files.reduce((n, f) => n + Math.ceil(statSync(path.join(root, f)).size / 1024), 0);
  const control = [
    'Package: layerdu',
    `Version: ${facts.version}`,
    'Architecture: amd64',
    `Maintainer: ${facts.maintainer}`,
    `Installed-Size: ${installedKiB}`,
    `Depends: ${shlibDepends(root, opts.work)}`,
    'Section: admin',
    'Priority: optional',
    `Description: ${DESCRIPTION}`,
    '',
  ].join('\n');
  put(root, 'DEBIAN/control', control);
  put(root, 'DEBIAN/conffiles', `/${DEB_PATHS.defaults}\n`);
  put(root, 'DEBIAN/md5sums', files.map((f) => `${createHash('md5').update(readFileSync(path.join(root, f))).digest('hex')}  ${f}\n`).join(''));
  for (const s of ['postinst', 'prerm', 'postrm']) copy(root, `DEBIAN/${s}`, repo('packaging', 'debian', s), 0o755);
  // Directories 0755 whatever the umask.
  for (const d of [root, ...files.map((f) => path.dirname(path.join(root, f)))]) {
    for (let p = d; p.startsWith(root); p = path.dirname(p)) chmodSync(p, 0o755);
  }
  chmodSync(path.join(root, 'DEBIAN'), 0o755);
  const deb = path.join(opts.out, `layerdu_${facts.version}_amd64.deb`);
  must('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', root, deb]);
  return deb;
}
