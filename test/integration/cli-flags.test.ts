// The built CLI's flags, as a process, without a daemon: bad flags and values exit 2 with one
// line, every flag can come from the environment, --help has examples.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { CLI, REPO_ROOT } from '../support/oracles.js';

describe('agent: flags', () => {
  const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 20_000 });

  it('an unknown flag exits 2 with a one-line message', () => {
    const r = cli(['--bogus-flag']);
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /bogus-flag/);
  });

  it('bad values exit 2: schedule, listen address, docker host, format', () => {
    for (const args of [['--scan.schedule', 'every minute'], ['--web.listen-address', 'localhost'], ['--docker-host', 'ftp://x'], ['--report', '--format', 'xml'], ['--metrics.max-objects', '-1'], ['--metrics.max-objects', '2.5'], ['--walk.concurrency', '-1'], ['--walk.concurrency', '1.5']]) {
      const r = cli(args);
      assert.equal(r.status, 2, args.join(' '));
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });

  it('every flag is settable by environment', () => {
    const r = cli([], { LAYERDU_SCAN_SCHEDULE: 'bogus' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /scan\.schedule "bogus"/);
  });

  it('--help shows examples', () => {
    const r = cli(['--help']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /Examples:/);
    assert.match(r.stdout, /LAYERDU_WEB_LISTEN_ADDRESS/);
  });
});
