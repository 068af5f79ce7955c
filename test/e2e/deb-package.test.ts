// The Debian package on this machine (issue 15): built by `npm run package` (cached per source,
// test/support/deb-package.ts), checked by lintian, installed with dpkg -i, its layerdu run on the
// acceptance fixture's daemon against the npm build, its unit through systemd-analyze, then
// purged, leaving nothing behind. It is the one test that touches /usr and /etc: `after` purges
// whatever happened.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { Report } from '../../agent/model/report.js';
import { VERSION } from '../../agent/cli/version.js';
import { parseHelp } from '../../packaging/manpage.js';
import { DEB_PATHS } from '../../packaging/deb.js';
import type { PackageOutput } from '../../packaging/package.js';
import { cachedPackage } from '../support/deb-package.js';
import { findExecutable } from '../support/dockerd.js';
import { getFixture, type Fixture } from '../support/fixture-host.js';
import { CLI, runReport, type ReportRun } from '../support/oracles.js';
import { differences, withoutRunNoise } from '../support/report-diff.js';

const BIN = `/${DEB_PATHS.binary}`;
const UNIT = `/${DEB_PATHS.unit}`;
const DEFAULTS = `/${DEB_PATHS.defaults}`;
/** What `systemctl enable layerdu` makes (WantedBy=multi-user.target). */
const ENABLED = '/etc/systemd/system/multi-user.target.wants/layerdu.service';
/** The unit's StateDirectory under DynamicUser: /var/lib/layerdu links to private/layerdu. */
const STATE = '/var/lib/private/layerdu';
const STATE_LINK = '/var/lib/layerdu';

function sh(cmd: string, args: string[]): { status: number | null; out: string; stdout: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  return { status: r.status, out: `${r.stdout}${r.stderr}`, stdout: r.stdout };
}

const installed = () => sh('dpkg-query', ['-W', '-f=${Status}', 'layerdu']).stdout.includes('ok installed');
const purge = () => sh('dpkg', ['--purge', 'layerdu']);

/** The installed executable's `--report ARGS`, as runReport runs the npm build's. */
function runInstalled(args: string[], extra: NodeJS.ProcessEnv): Promise<ReportRun<Report>> {
  const env = { ...process.env, ...extra };
  delete env.DOCKER_HOST;
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, ['--report', ...args], { cwd: '/', env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const stdout = Buffer.concat(out).toString('utf8');
      const r: ReportRun<Report> = { code, signal, stdout, stderr: Buffer.concat(err).toString('utf8') };
      try {
        r.json = JSON.parse(stdout) as Report;
      } catch (e) {
        r.jsonError = (e as Error).message;
      }
      resolve(r);
    });
  });
}

describe('the Debian package: lintian, dpkg -i, the installed layerdu, purge', function () {
  this.timeout(900_000);
  let pkg: PackageOutput;
  let fx: Fixture;
  let listed: string[] = [];

  before(async function () {
    if (process.getuid?.() !== 0) this.skip();
    for (const tool of ['dpkg', 'dpkg-deb', 'dpkg-shlibdeps', 'strip', 'lintian', 'systemd-analyze']) assert.ok(findExecutable(tool), `${tool} (test/support/ensure-deps.ts installs it)`);
    // A package left by an earlier run that died before its purge.
    if (installed()) assert.equal(purge().status, 0);
    assert.ok(!existsSync(BIN), `${BIN} exists without the package: not ours to overwrite`);
    [pkg, fx] = await Promise.all([cachedPackage(), getFixture()]);
    const r = sh('dpkg', ['-i', pkg.deb]);
    assert.equal(r.status, 0, r.out);
    listed = sh('dpkg', ['-L', 'layerdu']).stdout.split('\n').filter(Boolean);
  });

  after(function () {
    this.timeout(120_000);
    if (installed()) purge();
  });

  it('lintian reports nothing beyond the package\'s overrides (Node.js\'s own build)', function () {
    // What the overrides (packaging/debian/lintian-overrides) hide is Node's: embedded zlib, no PIE,
    // misspelt strings of Node, V8 and npm packages.
    const r = sh('lintian', ['--pedantic', pkg.deb]);
    assert.equal(r.status, 0, r.out);
    const tags = r.stdout.split('\n').filter((l) => /^[EWIPX]: /.test(l));
    assert.deepEqual(tags, [], r.out);
  });

  it('installs its layout, /etc/default/layerdu as a conffile, the service not enabled', () => {
    for (const p of [BIN, `/${DEB_PATHS.addon}`, UNIT, DEFAULTS, `/${DEB_PATHS.man}`, `/${DEB_PATHS.doc}/copyright`, `/${DEB_PATHS.doc}/changelog.gz`]) assert.ok(listed.includes(p), `dpkg -L lists ${p}`);
    for (const f of ['dashboards/layerdu-overview.json', 'dashboards/layerdu-image.json', 'dashboards/layerdu-fleet.json', 'dashboards/provider.yml', 'rules/layerdu.rules.yml', 'rules/layerdu.rules.test.yml', 'alertmanager.example.yml']) {
      assert.ok(listed.includes(`/${DEB_PATHS.share}/${f}`), f);
    }
    assert.match(sh('dpkg-query', ['-W', '-f=${Conffiles}', 'layerdu']).stdout, /^ \/etc\/default\/layerdu [0-9a-f]{32}$/m);
    assert.ok(!existsSync(ENABLED), 'not enabled');
    assert.equal(lstatSync(BIN).mode & 0o777, 0o755);
  });

  it('layerdu --version, --help and the man page agree with the npm build', () => {
    assert.equal(sh(BIN, ['--version']).stdout.trim(), VERSION);
    const help = sh(BIN, ['--help']).stdout;
    assert.equal(help, sh(process.execPath, [CLI, '--help']).stdout, 'the same --help');
    const page = gunzipSync(readFileSync(`/${DEB_PATHS.man}`)).toString('utf8');
    for (const o of parseHelp(help).options) assert.ok(page.includes(`.B ${o.flag.replace(/-/g, '\\-')}\n`), o.flag);
    if (findExecutable('man')) {
      const r = sh('man', ['--warnings', '-E', 'UTF-8', '-l', '-Tutf8', '-Z', `/${DEB_PATHS.man}`]);
      assert.equal(r.status, 0, r.out);
    }
  });

  for (const walker of ['GNU find', 'the Node walker'] as const) {
    it(`the installed layerdu --report gives the npm build's figures (${walker})`, async function () {
      const env: NodeJS.ProcessEnv = walker === 'the Node walker' ? { LAYERDU_WALKER: 'node' } : {};
      const args = ['--format', 'json', '--docker-root', fx.root, '--docker-host', fx.host];
      // The daemon writes into its root now and then: an npm run before and after, until they agree.
      for (let attempt = 0; ; attempt++) {
        const before = await runReport<Report>(args, { env });
        const sea = await runInstalled(args, env);
        const after = await runReport<Report>(args, { env });
        for (const r of [before, sea, after]) assert.equal(r.code, 0, r.stderr);
        assert.ok(sea.json, sea.jsonError);
        const settled = differences(withoutRunNoise(before.json!), withoutRunNoise(after.json!)).length === 0;
        if (!settled && attempt < 2) continue;
        assert.ok(settled, 'the docker root kept changing');
        assert.equal(sea.json.apiUp, true, 'the API worker thread answered');
        assert.deepEqual(sea.json.errors, []);
        assert.equal(sea.stderr, '');
        assert.ok(sea.json.images.some((i) => i.wasted.disk > 0), 'wasted bytes (opaque directories: the xattr addon)');
        assert.deepEqual(differences(withoutRunNoise(sea.json), withoutRunNoise(before.json!)), []);
        break;
      }
    });
  }

  it('systemd-analyze verify and security --offline on the installed unit', () => {
    const verify = sh('systemd-analyze', ['verify', UNIT]);
    assert.equal(verify.status, 0, verify.out);
    assert.equal(verify.out.trim(), '');
    const security = sh('systemd-analyze', ['security', '--offline=yes', UNIT]);
    const m = /Overall exposure level for layerdu\.service: (\d+\.\d+)/.exec(security.out);
    assert.ok(m, security.out);
    assert.ok(Number(m[1]) <= 3.0, `exposure ${m[1]}`);
  });

  it('dpkg --purge leaves nothing behind, an edited /etc/default/layerdu, `systemctl enable` and the service\'s layer cache included', () => {
    writeFileSync(DEFAULTS, 'LAYERDU_OPTS="--log.level=debug"\n');
    // The StateDirectory as systemd lays it out under DynamicUser (a link to private/), with a
    // cache file; staged only where this machine has none of its own.
    const staged = !existsSync(STATE_LINK) && !existsSync(STATE);
    if (staged) {
      mkdirSync(STATE, { recursive: true });
      writeFileSync(`${STATE}/layers-0000000000000000.cache`, 'cache');
      symlinkSync('private/layerdu', STATE_LINK);
    }
    mkdirSync('/etc/systemd/system/multi-user.target.wants', { recursive: true });
    symlinkSync(UNIT, ENABLED);
    try {
      const r = purge();
      assert.equal(r.status, 0, r.out);
    } finally {
      rmSync(ENABLED, { force: true });
    }
    assert.ok(!installed());
    assert.notEqual(sh('dpkg', ['-L', 'layerdu']).status, 0, 'dpkg -L knows no layerdu');
    // (statSync: /lib is a link to usr/lib on a merged /usr.)
    const left = listed.filter((p) => existsSync(p) && !statSync(p).isDirectory());
    assert.deepEqual(left, [], 'every file it installed is gone');
    for (const p of [DEFAULTS, `${DEFAULTS}.dpkg-old`, `/${DEB_PATHS.share}`, '/usr/lib/layerdu', `/${DEB_PATHS.doc}`, UNIT, BIN]) assert.ok(!existsSync(p), `${p} is gone`);
    assert.throws(() => lstatSync(ENABLED), 'the enablement symlink is gone');
    if (staged) for (const p of [STATE, STATE_LINK]) assert.throws(() => lstatSync(p), `${p} (the layer cache) is gone`);
    assert.deepEqual(sh('sh', ['-c', 'ls /var/lib/dpkg/info/layerdu.* 2>/dev/null']).stdout, '', "dpkg's records are gone");
  });
});
