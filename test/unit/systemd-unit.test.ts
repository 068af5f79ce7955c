// The systemd unit's directives, read from the file: options from /etc/default/layerdu, restarts,
// one capability. (systemd-analyze on it is in test/integration/systemd.test.ts.)
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/oracles.js';

const UNIT = join(REPO_ROOT, 'systemd', 'layerdu.service');

describe('systemd unit', () => {
  it('reads LAYERDU_OPTS from /etc/default/layerdu and restarts on failure', () => {
    const unit = readFileSync(UNIT, 'utf8');
    assert.match(unit, /^EnvironmentFile=-\/etc\/default\/layerdu$/m);
    assert.match(unit, /^ExecStart=.* \$LAYERDU_OPTS$/m);
    assert.match(unit, /^Restart=on-failure$/m);
    assert.match(unit, /^CapabilityBoundingSet=CAP_DAC_READ_SEARCH$/m);
    // The layer cache's directory, the only one it writes ($STATE_DIRECTORY: --cache.dir's default).
    assert.match(unit, /^StateDirectory=layerdu$/m);
  });
});
