// One bench at a time per fixture (a lock file holding the pid), and the children an interrupted
// bench must stop before it lets go of the lock.
import { closeSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { alive } from './daemon.js';

export function takeLock(file: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      closeSync(openSync(file, 'wx'));
      writeFileSync(file, `${process.pid}\n`);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (pid > 0 && alive(pid)) throw new Error(`another bench (pid ${pid}) holds ${file}`);
      rmSync(file, { force: true });
    }
  }
  throw new Error(`could not take ${file}`);
}

/** Our own children (an agent, a du, a docker client) still running. */
export function childPids(): number[] {
  const pids: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid) pids.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return pids;
}
