// What this process may read. overlayfs keeps its opaque-directory marker in the `trusted.*`
// xattr namespace, which the kernel hides from a process without CAP_SYS_ADMIN: the systemd unit
// and the DaemonSet run with CAP_DAC_READ_SEARCH alone, so they learn opaque directories from the
// stores' own records of each layer instead (collectors/walk/opaque-records.ts).
import { readFileSync } from 'node:fs';

const CAP_SYS_ADMIN = 21;

/** Whether a `/proc/<pid>/status` text's effective set holds CAP_SYS_ADMIN; null when it has no CapEff. */
export function parseSysAdmin(status: string): boolean | null {
  const m = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(status);
  if (!m) return null;
  return ((BigInt(`0x${m[1]}`) >> BigInt(CAP_SYS_ADMIN)) & 1n) === 1n;
}

let memo: boolean | null = null;

/** Whether this process reads `trusted.*` xattrs; asked once (a process's capabilities stay). */
export function readsTrustedXattrs(): boolean {
  if (memo === null) {
    try {
      // The process's own status: not a host path, whatever --path.procfs says.
      memo = parseSysAdmin(readFileSync('/proc/self/status', 'utf8')) ?? process.getuid?.() === 0;
    } catch {
      memo = process.getuid?.() === 0;
    }
  }
  return memo;
}
