// Where the host's own files are. When layerdu runs in a container the host's root, /proc and
// /sys are mounted elsewhere (`--path.rootfs`, `--path.procfs`, `--path.sysfs`, as node_exporter
// has them); every host path is made from one HostPaths value, passed in, never a module global.
import { join } from 'node:path';

export interface HostPaths {
  /** The host's `/`. */
  rootfs: string;
  /** The host's `/proc`. */
  proc: string;
  /** The host's `/sys`. */
  sys: string;
}

/** Paths left unset move under `rootfs`. */
export function hostPaths(given: Partial<HostPaths> = {}): HostPaths {
  const rootfs = given.rootfs ?? '/';
  return { rootfs, proc: given.proc ?? join(rootfs, 'proc'), sys: given.sys ?? join(rootfs, 'sys') };
}

export const procPath = (host: HostPaths, ...parts: string[]): string => join(host.proc, ...parts);
export const sysPath = (host: HostPaths, ...parts: string[]): string => join(host.sys, ...parts);
/** A path of the host's filesystem (`/etc/docker/daemon.json`) as this process sees it. */
export const rootfsPath = (host: HostPaths, ...parts: string[]): string => join(host.rootfs, ...parts);
