// The bench's private dockerd on a fixed data root that outlives the run: started with the test
// harness' startDaemon, but stopped without its clean-up (which removes every container and,
// for roots it made, the root itself). The fixture's exited container must survive.
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { mountsUnder, run, startDaemon, type Daemon } from '../support/dockerd.js';

/** Whether a process of this pid is running (signal 0 only asks). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** dockerd and containerd processes whose command line names `root` (ours, by construction). */
export function processesOn(root: string): { pid: number; exe: string }[] {
  const found: { pid: number; exe: string }[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
      const exe = path.basename(cmd[0] ?? '');
      if (exe !== 'dockerd' && !exe.startsWith('containerd')) continue;
      if (cmd.some((a) => a === root || a.startsWith(`${root}/`))) found.push({ pid: Number(e), exe });
    } catch {
      /* gone */
    }
  }
  return found;
}

export async function startBenchDaemon(root: string): Promise<Daemon> {
  return startDaemon({ dataRoot: root, startTimeoutMs: 180_000 });
}

/**
 * Stops the daemons on `root` (SIGTERM, SIGKILL after 60 s) and takes down what mounts they
 * left under it. Containers, images and the root stay as they are.
 */
export async function stopDaemonsOn(root: string, log: (m: string) => void = () => undefined): Promise<void> {
  const dockerds = processesOn(root).filter((p) => p.exe === 'dockerd');
  for (const p of dockerds) {
    log(`stopping dockerd ${p.pid} on ${root}`);
    try {
      process.kill(p.pid, 'SIGTERM');
    } catch {
      /* gone */
    }
  }
  const deadline = Date.now() + 60_000;
  while (dockerds.some((p) => alive(p.pid)) && Date.now() < deadline) await sleep(200);
  for (const p of dockerds) {
    if (alive(p.pid)) {
      log(`dockerd ${p.pid} still up after 60 s: SIGKILL`);
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  // dockerd stops the containerd it started; after a SIGKILL it may not have.
  for (let i = 0; i < 50; i++) {
    const strays = processesOn(root);
    if (strays.length === 0) break;
    for (const p of strays) {
      try {
        process.kill(p.pid, i < 25 ? 'SIGTERM' : 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await sleep(200);
  }
  // After a clean shutdown nothing is left; after a kill, dockerd's self-bind of the root and
  // container mounts may be.
  for (const mp of mountsUnder(root, true)) {
    log(`umount -l ${mp}`);
    await run('umount', ['-l', mp]).catch(() => undefined);
  }
}

export async function stopBenchDaemon(d: Daemon, log?: (m: string) => void): Promise<void> {
  await stopDaemonsOn(d.root, log);
}
