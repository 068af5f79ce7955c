// What a daemon can leave behind when it did not shut down cleanly (a SIGKILL): processes in its
// containers, its containerd and shims, cgroup directories, mounts, and the root we made.
import { readFileSync, readdirSync } from 'node:fs';
import { rm, rmdir } from 'node:fs/promises';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from './commands.js';
import { debug } from './harness-debug.js';
import { mountsUnder, selfBindMounted } from './mounts.js';

/** The ids of this root's containers (the names under <root>/containers). */
function containerIds(root: string): string[] {
  try {
    return readdirSync(path.join(root, 'containers')).filter((n) => /^[0-9a-f]{64}$/.test(n));
  } catch {
    return [];
  }
}

/** Processes inside this root's containers, found by their cgroup (…/docker/<id>). */
function containerProcesses(ids: string[]): number[] {
  if (ids.length === 0) return [];
  const pids: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const cg = readFileSync(`/proc/${e}/cgroup`, 'utf8');
      if (ids.some((id) => cg.includes(id))) pids.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return pids;
}

/** Removes the (empty) cgroup directories runc left for these containers after a hard stop. */
async function removeCgroups(ids: string[]): Promise<void> {
  let text = '';
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return;
  }
  const mps = text
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => {
      const fstype = f[f.indexOf('-') + 1];
      return fstype === 'cgroup' || fstype === 'cgroup2';
    })
    .map((f) => f[4]!);
  for (const mp of mps) {
    for (const id of ids) {
      for (const dir of [path.join(mp, 'docker', id), path.join(mp, 'system.slice', `docker-${id}.scope`)]) {
        await rmdir(dir).catch(() => undefined);
      }
    }
  }
}

/** Processes (other than dockerd) whose command line names this root: its containerd and shims. */
function strayProcesses(root: string): number[] {
  const pids: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return pids;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    if (pid === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const exe = path.basename(cmd[0] ?? '');
      if (!exe.startsWith('containerd') && exe !== 'dockerd') continue;
      if (cmd.some((a) => a === root || a.startsWith(root + '/'))) pids.push(pid);
    } catch {
      /* gone */
    }
  }
  return pids;
}

/** After dockerd has exited: clears what it left of `root`, and removes `root` when we `created` it. */
export async function clearLeftovers(root: string, created: boolean): Promise<void> {
  // dockerd stops its containers and the containerd it started; after a SIGKILL it may not
  // have: kill what is left by id (container processes by cgroup, then containerd and shims).
  const ids = containerIds(root);
  for (let i = 0; i < 25; i++) {
    const procs = containerProcesses(ids);
    if (procs.length === 0) break;
    for (const p of procs) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await sleep(200);
  }
  for (let i = 0; i < 50; i++) {
    const strays = strayProcesses(root);
    if (strays.length === 0) break;
    for (const p of strays) {
      try {
        process.kill(p, i < 25 ? 'SIGTERM' : 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await sleep(200);
  }
  debug(`${root}: dockerd exited`);
  await removeCgroups(ids);
  // dockerd bind-mounts its data root onto itself (to set propagation) and undoes that on
  // a clean shutdown; after a SIGKILL it stays, so take it too when it is such a bind.
  for (const mp of mountsUnder(root, created || selfBindMounted(root))) {
    debug(`${root}: umount -l ${mp}`);
    try {
      await run('umount', ['-l', mp]);
    } catch {
      /* already gone, or a parent took it along */
    }
  }
  if (created) {
    for (let i = 0; ; i++) {
      try {
        await rm(root, { recursive: true, force: true });
        break;
      } catch (e) {
        if (i >= 5) throw e;
        await sleep(500);
      }
    }
  }
}
