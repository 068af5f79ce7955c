// The systemd unit on a real daemon: the privileges it grants (a non-root user with
// CAP_DAC_READ_SEARCH and the docker group) still read the docker root and the socket. (That it
// verifies and rates a low exposure is in test/integration/systemd.test.ts; its directives in
// test/unit/systemd-unit.test.ts.)
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Report } from '../../agent/model/report.js';
import { makeBaseImage, startDaemon, type Daemon } from '../support/dockerd.js';
import { runReport } from '../support/oracles.js';

describe('systemd unit', () => {
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
