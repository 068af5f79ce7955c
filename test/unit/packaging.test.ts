// What `npm run package` puts in the Debian package, checked from the sources without building it
// (test/e2e/deb-package.test.ts builds, installs and purges it): the unit with the package's paths,
// the man page from --help, --help against the README, /etc/default/layerdu, maintainer scripts
// that enable nothing, and the version.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { envName } from '../../agent/cli/command.js';
import { VERSION } from '../../agent/cli/version.js';
import { packagedUnit } from '../../packaging/deb.js';
import { manPage, parseHelp, type Help } from '../../packaging/manpage.js';
import { CLI, REPO_ROOT } from '../support/oracles.js';

const read = (...p: string[]) => readFileSync(path.join(REPO_ROOT, ...p), 'utf8');

let helpText: string | null = null;
function help(): Help {
  helpText ??= spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' }).stdout;
  return parseHelp(helpText);
}

describe('the Debian package, from its sources', () => {
  it("--version says package.json's version", () => {
    assert.equal(VERSION, (JSON.parse(read('package.json')) as { version: string }).version);
    assert.equal(spawnSync(process.execPath, [CLI, '--version'], { encoding: 'utf8', cwd: '/' }).stdout.trim(), VERSION, 'from any working directory');
  });

  it("the packaged unit is the repository's with /usr/bin/layerdu and the man page", () => {
    const repo = read('systemd', 'layerdu.service');
    const unit = packagedUnit(repo);
    assert.match(unit, /^ExecStart=\/usr\/bin\/layerdu \$LAYERDU_OPTS$/m);
    assert.match(unit, /^Documentation=man:layerdu\(1\)$/m);
    assert.match(unit, /^EnvironmentFile=-\/etc\/default\/layerdu$/m);
    const directives = (t: string) => t.split('\n').filter((l) => /^[A-Z]\w*=/.test(l) && !/^(ExecStart|Documentation)=/.test(l));
    assert.deepEqual(directives(unit), directives(repo), 'every other directive as in systemd/layerdu.service');
    assert.doesNotMatch(unit, /\/opt\/layerdu|\/usr\/bin\/node/);
  });

  it('--help names every flag of the README, and the README every flag of --help', () => {
    const readme = read('README.md');
    const flags = help().options.map((o) => o.flag);
    assert.ok(flags.length >= 15, flags.join(' '));
    const table = [...readme.matchAll(/^\| `(--[\w.-]+)` \|/gm)].map((m) => m[1]!);
    assert.ok(table.length >= 10, 'the README has its flag table');
    for (const f of table) assert.ok(flags.includes(f), `README's ${f} is not in --help`);
    for (const f of flags) if (f !== '--help' && f !== '--version') assert.ok(readme.includes(`\`${f}`), `--help's ${f} is not in the README`);
  });

  it('the man page has every option of --help with its text, and valid roff requests only', () => {
    const h = help();
    const page = manPage(h, { version: VERSION, date: '2026-01-01' });
    assert.match(page, /^\.TH LAYERDU 1 "2026-01-01" "layerdu 0\.1\.0"/);
    for (const o of h.options) {
      assert.ok(page.includes(`.B ${o.flag.replace(/-/g, '\\-')}\n`), o.flag);
      assert.ok(o.text.length > 0, `${o.flag} has a description`);
    }
    assert.ok(h.options.find((o) => o.flag === '--docker-host')!.text.includes('[env LAYERDU_DOCKER_HOST]'), 'wrapped lines joined');
    for (const l of page.split('\n')) if (/^[.']/.test(l)) assert.match(l, /^\.(TH|SH|TP|B|I|BR|RB|RI|PP|nf|fi) ?/, l);
  });

  it('/etc/default/layerdu sets LAYERDU_OPTS, and each variable it suggests is a flag', () => {
    const text = read('packaging', 'debian', 'default');
    assert.match(text, /^LAYERDU_OPTS=""$/m);
    const vars = new Set(help().options.map((o) => envName(o.flag.slice(2))));
    const suggested = [...text.matchAll(/^#(LAYERDU_\w+)=/gm)].map((m) => m[1]!);
    assert.ok(suggested.length >= 2);
    for (const v of suggested) assert.ok(vars.has(v), v);
  });

  it('the maintainer scripts enable and start nothing, and purge /etc/default/layerdu', () => {
    for (const s of ['postinst', 'prerm', 'postrm']) {
      const text = read('packaging', 'debian', s);
      assert.match(text, /^#!\/bin\/sh\n/, s);
      assert.match(text, /^set -e$/m, s);
      const code = text.split('\n').filter((l) => !/^\s*#/.test(l)).join('\n');
      assert.doesNotMatch(code, /systemctl[^\n]*\b(enable|start|unmask)\b|deb-systemd-helper (enable|unmask)|deb-systemd-invoke start/, s);
    }
    const postrm = read('packaging', 'debian', 'postrm');
    assert.match(postrm, /purge\)[\s\S]*rm -f \/etc\/default\/layerdu /);
  });
});
