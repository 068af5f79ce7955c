// How many finds walk at once, by the device beneath the docker root (collectors/host/device.ts)
// and the cores: the rule walk-tree.ts's setFindSlots is given once, at start. A walk of a tree
// by one find keeps one lstat in flight at a time, as du does: on a cold page cache each is a read
// from the device, so several finds at once keep several requests queued, which flash serves in
// parallel and a spinning disk serves by seeking between the trees. A VM's disk (virtio and the
// like) is walked as flash: on this project's 2-core virtio machine, cold reports with 4 finds
// beat 3 (the old cores + 1) in each of four series of cold runs and 8 did no better than 4 (README,
// Performance); a cold walk there is mostly the guest kernel's CPU, the host caching the image.
import { availableParallelism } from 'node:os';
import { learnHostFacts } from '../host/device.js';
import type { HostPaths } from '../host/paths.js';
import type { DeviceType, HostFacts } from '../lib/host-facts.js';
import { setFindSlots } from './walk-tree.js';

/** Finds in flight for a device type on a host of `cores` cores. */
export function findsInFlight(type: DeviceType, cores: number): number {
  const c = Math.max(1, Math.floor(cores));
  switch (type) {
    case 'nvme':
    case 'ssd':
    case 'virtual':
      return Math.max(4, 2 * c);
    case 'hdd':
      return 2;
    default:
      return c + 1;
  }
}

/**
 * At start (the CLI's report, the agent): learns the host's facts once and sets how many finds
 * walk at once, `given` (--walk.concurrency) when above 0, else the device's rule. The agent asks
 * systeminformation too (`systeminformation`); a one-off report reads sysfs alone.
 */
export async function configureWalks(host: HostPaths, dockerRoot: string, opts: { given?: number; systeminformation?: boolean } = {}): Promise<HostFacts> {
  const facts = await learnHostFacts(host, dockerRoot, { systeminformation: opts.systeminformation });
  setFindSlots(opts.given && opts.given > 0 ? opts.given : findsInFlight(facts.device.type, availableParallelism()));
  return facts;
}
