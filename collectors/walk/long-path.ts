// Paths longer than PATH_MAX. A tree may nest deeper than the 4096 bytes the kernel takes in one
// path (a layer unpacked from a tar holds whatever its builder made), and a walk must not lose
// what lies there. Node's fs has no openat, but Linux resolves `/proc/self/fd/<n>/rest` from the
// directory open as `<n>`: a long path is reached through a chain of directories opened a piece
// at a time, each piece under PATH_MAX, from any thread and without changing directory.
import { closeSync, constants, openSync } from 'node:fs';
import { byteLength, type RawPath } from '../lib/raw-path.js';

export const PATH_MAX = 4096;
/** Pieces stay this short, leaving room for the `/proc/self/fd/<n>/` in front of them. */
const PIECE = PATH_MAX - 64;
const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW } = constants;

const tooLong = (p: RawPath) => Object.assign(new Error(`ENAMETOOLONG: name too long, '${String(p).slice(0, 80)}…'`), { code: 'ENAMETOOLONG' });

/** Whether `p` can be handed to the kernel as it is. */
export function reachable(p: RawPath): boolean {
  return byteLength(p) < PIECE;
}

/**
 * Runs `use` with a path the kernel accepts that names what `p` names, however long `p` is. The
 * directories opened on the way are closed when `use` returns.
 */
export function withReachable<T>(p: RawPath, use: (q: RawPath) => T): T {
  if (reachable(p)) return use(p);
  let rest = typeof p === 'string' ? Buffer.from(p, 'utf8') : p;
  let base = '';
  let fd = -1;
  try {
    while (base.length + rest.length >= PIECE) {
      const cut = rest.lastIndexOf(0x2f, PIECE - base.length - 1);
      if (cut <= 0) throw tooLong(p);
      const next = openSync(Buffer.concat([Buffer.from(base), rest.subarray(0, cut)]), O_RDONLY | O_DIRECTORY);
      if (fd >= 0) closeSync(fd);
      fd = next;
      base = `/proc/self/fd/${fd}/`;
      rest = rest.subarray(cut + 1);
    }
    return use(Buffer.concat([Buffer.from(base), rest]));
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/**
 * Runs `use` with a path of the directory `p` itself, open for the call: `/proc/self/fd/<n>`.
 * For calls that take a string only (chdir, the xattr addon) when `p` is long or no UTF-8.
 * A symlink at `p` is refused (ELOOP), so nothing swapped in leads out of the tree.
 */
export function withOpenDir<T>(p: RawPath, use: (procPath: string) => T): T {
  const fd = withReachable(p, (q) => openSync(q, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
  try {
    return use(`/proc/self/fd/${fd}`);
  } finally {
    closeSync(fd);
  }
}
