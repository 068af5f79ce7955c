// Mount points from /proc/self/mountinfo: what a daemon's root still has mounted below it.
import { readFileSync } from 'node:fs';

/** Mount points at or below `dir`, deepest first, from /proc/self/mountinfo. */
export function mountsUnder(dir: string, includeSelf = false): string[] {
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const base = dir.replace(/\/+$/, '');
  const found: string[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const raw = fields[4];
    if (!raw) continue;
    // mountinfo escapes space, tab, newline and backslash as \ooo
    const mp = raw.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (mp.startsWith(base + '/') || (includeSelf && mp === base)) found.push(mp);
  }
  return [...new Set(found)].sort((a, b) => b.split('/').length - a.split('/').length || b.length - a.length);
}

/** Whether `dir` is a mount point whose source is `dir` itself (dockerd's propagation bind). */
export function selfBindMounted(dir: string): boolean {
  try {
    return readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .some((line) => {
        const f = line.split(' ');
        return f[4] === dir && f[3] === dir;
      });
  } catch {
    return false;
  }
}
