import assert from 'node:assert/strict';
import type { ApiFacts } from '../../collectors/lib/facts.js';
import { settleActive } from '../../agent/scan/scan.js';

const api = (driver: string): ApiFacts => ({ containers: new Map(), driver, driverStatus: [], dockerRootDir: null, serverVersion: null });
const classic = { active: true, driver: 'overlay2', changedMs: 2000 };
const containerd = { active: true, driver: 'overlayfs', changedMs: 1000 };

describe('which store Docker uses (settleActive)', () => {
  it('one claim stands as it is', () => {
    assert.deepEqual(settleActive([classic, { ...containerd, active: false }], null), [true, false]);
    assert.deepEqual(settleActive([classic], api('overlayfs')), [true]);
  });
  it('between two claims the API names the driver', () => {
    assert.deepEqual(settleActive([classic, containerd], api('overlayfs')), [false, true]);
    assert.deepEqual(settleActive([classic, containerd], api('overlay2')), [true, false]);
  });
  it('without the API, the store whose metadata changed last', () => {
    assert.deepEqual(settleActive([classic, containerd], null), [true, false]);
    assert.deepEqual(settleActive([{ ...classic, changedMs: null }, containerd], null), [false, true]);
    assert.deepEqual(settleActive([classic, containerd], api('btrfs')), [true, false], 'a driver neither has: by time');
  });
});
