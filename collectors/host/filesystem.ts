// The filesystem that holds the docker root: which mount it is (from mountinfo) and how full it
// is (statfs).
import { promises as fsp } from 'node:fs';
import { resolve } from 'node:path';
import type { FilesystemUsage } from '../lib/facts.js';
import { procPath, type HostPaths } from './paths.js';

export type { FilesystemUsage } from '../lib/facts.js';

export interface MountEntry {
  mountId: number;
  device: string; // major:minor
  root: string;
  mountpoint: string;
  fstype: string;
  source: string;
  superOptions: string;
}

// mountinfo escapes space, tab, newline and backslash as octal.
const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** `/proc/self/mountinfo` lines: `id parent maj:min root mountpoint opts [optional…] - fstype source superopts`. */
export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(' ');
    const dash = fields.indexOf('-');
    if (dash < 6 || fields.length < dash + 3) continue;
    out.push({
      mountId: Number(fields[0]),
      device: fields[2]!,
      root: unescape(fields[3]!),
      mountpoint: unescape(fields[4]!),
      fstype: fields[dash + 1]!,
      source: unescape(fields[dash + 2]!),
      superOptions: fields[dash + 3] ?? '',
    });
  }
  return out;
}

/** The mount that holds `path`: the longest mountpoint prefix; later mounts shadow earlier ones. */
export function mountFor(mounts: MountEntry[], path: string): MountEntry | null {
  const p = resolve(path);
  let best: MountEntry | null = null;
  for (const m of mounts) {
    const mp = m.mountpoint;
    const covers = mp === '/' || p === mp || p.startsWith(mp.endsWith('/') ? mp : `${mp}/`);
    if (covers && (!best || mp.length >= best.mountpoint.length)) best = m;
  }
  return best;
}

export async function readFilesystemUsage(path: string, host: HostPaths): Promise<FilesystemUsage> {
  const real = await fsp.realpath(path);
  const mount = mountFor(parseMountinfo(await fsp.readFile(procPath(host, 'self', 'mountinfo'), 'utf8')), real);
  const st = await fsp.statfs(real);
  return {
    mountpoint: mount?.mountpoint ?? '/',
    fstype: mount?.fstype ?? 'unknown',
    source: mount?.source ?? '',
    device: mount?.device ?? '',
    size: st.blocks * st.bsize,
    avail: st.bavail * st.bsize,
  };
}
