// The systemd unit: it verifies, its exposure is low, and the privileges it grants (a non-root
// user with CAP_DAC_READ_SEARCH and the docker group) still read the docker root and the socket.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Report } from '../../agent/model/report.js';
import { makeBaseImage, startDaemon, type Daemon } from '../support/dockerd.js';
import { REPO_ROOT, runReport } from '../support/oracles.js';

const UNIT = join(REPO_ROOT, 'systemd', 'layerdu.service');

describe('systemd unit', () => {
  it('passes systemd-analyze verify', () => {
    const r = spawnSync('systemd-analyze', ['verify', UNIT], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.trim(), '');
  });

  it('rates an exposure of 3.0 or lower', () => {
    const r = spawnSync('systemd-analyze', ['security', '--offline=yes', UNIT], { encoding: 'utf8' });
    const m = /Overall exposure level for layerdu\.service: (\d+\.\d+)/.exec(r.stdout);
    assert.ok(m, r.stdout + r.stderr);
    assert.ok(Number(m[1]) <= 3.0, `exposure ${m[1]}`);
  });

  it('reads LAYERDU_OPTS from /etc/default/layerdu and restarts on failure', () => {
    const unit = readFileSync(UNIT, 'utf8');
    assert.match(unit, /^EnvironmentFile=-\/etc\/default\/layerdu$/m);
    assert.match(unit, /^ExecStart=.* \$LAYERDU_OPTS$/m);
    assert.match(unit, /^Restart=on-failure$/m);
    assert.match(unit, /^CapabilityBoundingSet=CAP_DAC_READ_SEARCH$/m);
  });

  describe("with the unit's privileges", function () {
    let d: Daemon;
    before(async function () {
      this.timeout(180_000);
      d = await startDaemon();
      await makeBaseImage(d);
    });
    after(async function () {
      this.timeout(60_000);
      await d?.stop();
    });

    it('reads the root-only docker root and the docker socket', async function () {
      this.timeout(60_000);
      const gid = /^docker:x:(\d+):/m.exec(readFileSync('/etc/group', 'utf8'))?.[1];
      assert.ok(gid, 'the docker group exists (docker.io creates it)');
      // What the unit grants: DynamicUser (an unprivileged uid), SupplementaryGroups=docker,
      // AmbientCapabilities and CapabilityBoundingSet of CAP_DAC_READ_SEARCH alone.
      const wrap = ['setpriv', '--reuid', '65534', '--regid', '65534', '--groups', gid, '--inh-caps', '-all,+dac_read_search', '--ambient-caps', '+dac_read_search', '--bounding-set', '-all,+dac_read_search'];
      const asRoot = await runReport<Report>(['--format', 'json', '--docker-root', d.root, '--docker-host', d.host]);
      const r = await runReport<Report>(['--format', 'json', '--docker-root', d.root, '--docker-host', d.host], { wrap });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.json!.apiUp, true, 'the socket answered');
      assert.deepEqual(r.json!.errors, []);
      assert.equal(r.json!.images.length, 1);
      assert.deepEqual(r.json!.layers, asRoot.json!.layers, 'the same layer figures as root');
      // Without the capability, the same user cannot read the docker root at all.
      const denied = await runReport(['--format', 'json', '--docker-root', d.root, '--docker-host', d.host], {
        wrap: ['setpriv', '--reuid', '65534', '--regid', '65534', '--groups', gid, '--inh-caps', '-all', '--bounding-set', '-all'],
      });
      assert.notEqual(denied.code, 0);
    });
  });
});
