// Reading a bbolt file that containerd holds open and mmapped, and may commit to at any moment.
// We never open it for writing and never flock it: containerd holds bbolt's lock and we would
// block it or be blocked. So we read a copy, and a copy taken across commits can be torn.
// parseBolt takes the valid meta page with the higher txid, which covers one commit; but when a
// second one reuses pages the copied meta still points at, the copy mixes two versions, parses,
// and is wrong. A read therefore only counts when nothing moved while it ran: the same size,
// mtime, ctime and inode before and after, and both meta pages, read again after the copy, as
// copied. Every commit rewrites a meta page, which catches what a coarse mtime would not.
import { open, readFile, stat } from 'node:fs/promises';
import { parseBolt, type BoltDb } from '../../lib/bbolt.js';
import { describeError } from '../../lib/errors.js';
import type { Problem } from '../../lib/facts.js';

export interface FileStamp {
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  ino: bigint;
  dev: bigint;
}

/** The I/O readBoltFile does, apart so that a test can play a file that changes. */
export interface BoltFileIo {
  stat(path: string): Promise<FileStamp>;
  readFile(path: string): Promise<Buffer>;
  /** The first `length` bytes, fewer when the file is shorter. */
  readHead(path: string, length: number): Promise<Buffer>;
  pause(ms: number): Promise<void>;
}

export const nodeBoltFileIo: BoltFileIo = {
  async stat(path) {
    const s = await stat(path, { bigint: true });
    return { size: s.size, mtimeNs: s.mtimeNs, ctimeNs: s.ctimeNs, ino: s.ino, dev: s.dev };
  },
  readFile: (path) => readFile(path, { flag: 'r' }),
  async readHead(path, length) {
    const handle = await open(path, 'r');
    try {
      const buf = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buf, 0, length, 0);
      return buf.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  },
  pause: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * Before each read after the first; a commit takes milliseconds, a burst of them (a build, an
 * import, pods starting) commits every few milliseconds for seconds: the pauses double, about
 * 1.3 s in all, so that some read falls between two commits.
 */
const RETRY_PAUSES_MS = [10, 20, 40, 80, 160, 320, 640];

const sameStamp = (a: FileStamp, b: FileStamp): boolean =>
  a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs && a.ino === b.ino && a.dev === b.dev;

type Attempt = { db: BoltDb } | { retry: string; unparsed?: FileStamp };

async function attempt(path: string, io: BoltFileIo): Promise<Attempt> {
  const before = await io.stat(path);
  const buf = await io.readFile(path);
  let db: BoltDb | null = null;
  let parseError = '';
  try {
    db = parseBolt(buf);
  } catch (err) {
    parseError = err instanceof Error ? err.message : String(err);
  }
  const head = db === null ? null : await io.readHead(path, Math.min(buf.length, 2 * db.meta.pageSize));
  const after = await io.stat(path);
  if (!sameStamp(before, after) || BigInt(buf.length) !== after.size) return { retry: 'the file changed while it was read' };
  if (db === null || head === null) return { retry: parseError, unparsed: after };
  if (!head.equals(buf.subarray(0, head.length))) return { retry: 'containerd committed while the file was read' };
  return { db };
}

/**
 * The bbolt file at `path`, parsed from a copy that no commit tore; null, with one problem naming
 * the file and why, when it is unreadable, or damaged (two reads of the file held still, neither
 * parsed), or no read out of eight came out whole.
 */
export async function readBoltFile(path: string, problems: Problem[], io: BoltFileIo = nodeBoltFileIo): Promise<BoltDb | null> {
  let reason = '';
  let unparsed: FileStamp | undefined;
  let reads = 0;
  for (let i = 0; i <= RETRY_PAUSES_MS.length; i++) {
    if (i > 0) await io.pause(RETRY_PAUSES_MS[i - 1]!);
    let result: Attempt;
    try {
      result = await attempt(path, io);
    } catch (err) {
      // Missing, permission denied, a directory: another read would say the same.
      problems.push({ path, message: describeError(err) });
      return null;
    }
    reads += 1;
    if ('db' in result) return result.db;
    // The same bytes twice, held still both times, and no parse: damaged, not torn.
    if (result.unparsed && unparsed && sameStamp(result.unparsed, unparsed)) break;
    unparsed = result.unparsed;
    reason = result.retry;
  }
  problems.push({ path, message: `no whole copy in ${reads} reads; the last: ${reason}` });
  return null;
}
