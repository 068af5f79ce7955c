// The fast walker: GNU find walks the tree and makes the lstat calls in C, at du's own speed, a
// few finds at once (walk-tree.ts), each printing one record per entry; this side sums and
// indexes the records as they stream in (the same TreeTally as the Node walker, node-walk.ts).
// Parsing a record costs a fraction of what Node's own lstat does, and no walker process boots.
//
// find cannot skip a list of paths cheaply, and busybox's has no -printf: walk-tree.ts decides
// which walks go to the Node walker.
import { isUtf8 } from 'node:buffer';
import { execFile } from 'node:child_process';
import { lstatSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { EntryKind } from '../lib/facts.js';
import { childHashBytes, ROOT_HASH } from '../lib/path-index.js';
import { joinRaw, type RawPath } from '../lib/raw-path.js';
import { sliceMs } from '../lib/serving-first.js';
import { startFind } from './find-spawner.js';
import { withReachable } from './long-path.js';
import { FIND_FORMAT, FindRecordParser, parseFindError, recordName, SINGLE_LINK_FORMAT, type FindRecord } from './find-records.js';
import { MAX_LISTED_NAMES, type Listed, type ListingsCapture } from './listings.js';
import { AT_ROOT, NOT_ENTERED, TreeTally, type EntryStat, type WalkOutcome } from './tally.js';

function gnuVersion(command: string, project: string): Promise<boolean> {
  return new Promise((done) => {
    execFile(command, ['--version'], { env: { ...process.env, LC_ALL: 'C' }, timeout: 5000 }, (err, stdout) => {
      done(!err && stdout.includes(`GNU ${project}`));
    });
  });
}

let probe: Promise<{ find: boolean; stdbuf: boolean }> | null = null;

function tools(): Promise<{ find: boolean; stdbuf: boolean }> {
  probe ??= Promise.all([gnuVersion('find', 'findutils'), gnuVersion('stdbuf', 'coreutils')]).then(([find, stdbuf]) => ({ find, stdbuf }));
  return probe;
}

/** GNU find is there (-printf with %D, %b and %d). Asked once. */
export async function gnuFindAvailable(): Promise<boolean> {
  return (await tools()).find;
}

function kindOf(type: string, path: RawPath, tally: TreeTally): EntryKind {
  if (type === 'd') return tally.dirKind(path);
  if (type === 'f') return 'file';
  if (type !== 'c') return 'other';
  // find prints no device numbers; a delete is a character device numbered 0/0, and rare.
  try {
    return withReachable(path, (p) => lstatSync(p)).rdev === 0 ? 'whiteout' : 'other';
  } catch (e) {
    tally.error(path, e);
    return 'other';
  }
}

// Records are read a few milliseconds at a time, each find's output paused until its records
// are read, so that a scrape never waits behind the walks: one reading loop for every find, at
// most one slice (lib/serving-first.ts) of this thread per turn of the event loop however many
// walks run, taken in turn.
// (libuv hands over up to 32 chunks of output in one go.)
type Reader = (more: () => boolean) => boolean;
const readers: Reader[] = [];
let pumping = false;

/** Runs `reader` (true: it has more to read) in the reading loop until it is done. */
function whenIdle(reader: Reader): void {
  readers.push(reader);
  if (!pumping) {
    pumping = true;
    setImmediate(pump);
  }
}

function pump(): void {
  const until = performance.now() + sliceMs();
  const more = () => performance.now() < until;
  while (readers.length > 0 && more()) {
    const reader = readers.shift()!;
    if (reader(more)) readers.push(reader);
  }
  if (readers.length > 0) setImmediate(pump);
  else pumping = false;
}

/** Walks one tree with GNU find; problems go to the outcome's errors and the walk always completes. */
export async function walkWithFind(root: string, opts: { index?: boolean; opaque?: boolean }): Promise<WalkOutcome> {
  const tally = new TreeTally(opts.index === true, opts.opaque);
  await findInto([root], tally);
  return tally.outcome();
}

/**
 * Walks trees with one GNU find into `tally`, which may be summing other trees too. Each root
 * counts as a walk's root (TreeTally.root). With `capture` (one root: the find spawner's listed
 * walks, walk-child.ts), each directory's names go there in the order find printed them
 * (listings.ts); past what a capture holds, find is stopped and the capture says it overflowed.
 */
export async function findInto(roots: string[], tally: TreeTally, capture?: ListingsCapture): Promise<void> {
  if (capture && roots.length !== 1) throw new Error('findInto: listings are kept for a walk of one root');
  const parser = new FindRecordParser();
  // find names each root as given (resolved), in the order given.
  const tops = roots.map((r) => resolve(r));
  let current = -1;
  // By depth: the directory being listed at each level (find prints a directory, then what is in it).
  // Paths are bytes where a name is no UTF-8 (raw-path.ts), and may pass PATH_MAX, which find walks.
  const paths: RawPath[] = [];
  const hashes: number[] = [ROOT_HASH];
  const entries: number[] = [AT_ROOT];
  const st: EntryStat = { isDir: false, dev: 0, ino: 0, nlink: 0, blocks: 0, size: 0 };
  let descend = false;
  // With `capture`, by depth: the directory being listed there, what it holds so far, and where
  // it sits in its parent's listing. Its listing is made once it is complete, its own
  // subdirectories' before it (find prints a directory's whole subtree before its next sibling).
  const open: Array<{ ino: number; names: RawPath[]; hashes: number[]; dirs: (Listed | undefined)[]; at: number }> = [];
  const close = (depth: number) => {
    const d = open[depth]!;
    const made = capture!.listing(d.ino, d.names, Float64Array.from(d.hashes), d.dirs);
    if (depth === 0) capture!.setRoot(made);
    else open[depth - 1]!.dirs[d.at] = made;
  };
  const opened = (depth: number, ino: number, at: number) => void (open[depth] = { ino, names: [], hashes: [], dirs: [], at });
  let overflowed: (() => void) | null = null;
  let names = 0;

  const onRecord = (r: FindRecord) => {
    st.isDir = r.type === 'd';
    st.dev = r.dev;
    st.ino = r.ino;
    st.nlink = r.nlink;
    st.blocks = r.blocks;
    st.size = r.size;
    if (r.depth === 0) {
      // A root that vanished before find reached it prints no record: match by name.
      const name = recordName(r);
      do current += 1;
      while (current < roots.length - 1 && basename(tops[current]!) !== name);
      paths[0] = roots[current]!;
      descend = tally.root(st);
      if (capture && descend) opened(0, st.ino, 0);
      return;
    }
    // A root on another device than the tally's: find walks it (-xdev bounds it), nothing counts.
    if (!descend) return;
    const up = r.depth - 1;
    // Only directories (opaque check, their children's errors) and character devices need a path.
    const path = st.isDir || r.type === 'c' ? joinRaw(paths[up]!, r.bytes.subarray(r.nameStart, r.nameEnd)) : '';
    // The name's bytes as find printed them: never decoded, so names that are no UTF-8 stay apart.
    const hash = tally.indexing || capture ? childHashBytes(hashes[up]!, r.bytes, r.nameStart, r.nameEnd) : 0;
    const kind = tally.indexing ? kindOf(r.type, path, tally) : null;
    const entry = tally.add(st, kind, hash, entries[up]!);
    let at = 0;
    if (capture) {
      // A directory's names are all in once a record at its depth or above comes next.
      for (let d = open.length - 1; d >= r.depth; d--) close(d);
      open.length = Math.min(open.length, r.depth);
      const parent = open[up]!;
      // A name that is no UTF-8 is copied out: a view would hold the whole chunk of output.
      const name = r.bytes.subarray(r.nameStart, r.nameEnd);
      at = parent.names.push(isUtf8(name) ? name.toString('utf8') : Buffer.from(name)) - 1;
      parent.hashes.push(hash);
      parent.dirs.push(undefined);
      // Counted as they come: one directory of a million names is given up at the limit too.
      if (++names > MAX_LISTED_NAMES) capture.overflow();
      if (capture.overflowed) {
        open.length = 0;
        capture = undefined;
        overflowed!();
      }
    }
    if (entry !== NOT_ENTERED) {
      paths[r.depth] = path;
      hashes[r.depth] = hash;
      entries[r.depth] = entry;
      if (capture) opened(r.depth, st.ino, at);
    }
  };

  // Errors name paths under the roots as the caller gave them.
  const asGiven = (path: string): string => {
    const i = tops.findIndex((t) => path === t || path.startsWith(`${t}/`));
    return i < 0 ? path : roots[i] + path.slice(tops[i]!.length);
  };
  const find = ['find', ...tops, '-xdev', '(', '-links', '+1', '-printf', FIND_FORMAT, ')', '-o', '-printf', SINGLE_LINK_FORMAT];
  // find writes a pipe 4 KiB at a time; each read costs this thread more than parsing what it
  // brings. GNU stdbuf gives find a 64 KiB buffer, the size this side reads at a time.
  const argv = (await tools()).stdbuf ? ['stdbuf', '-o', '64K', ...find] : find;
  const child = await startFind(argv);
  return new Promise<void>((done) => {
    let stderr = '';
    // The walk is over when find has closed its output and every record has been read.
    let broken = false;
    let reading = false;
    let closed: (() => void) | null = null;
    const readSome = (more: () => boolean): boolean => {
      try {
        if (parser.drain(onRecord, more)) return true;
      } catch (e) {
        broken = true;
        tally.error(roots[0]!, e);
        child.kill();
      }
      reading = false;
      if (closed) closed();
      else child.stdout.resume();
      return false;
    };
    // Too big to remember: the walk is given up (the caller walks it again without listings).
    overflowed = () => {
      broken = true;
      child.kill();
    };
    child.stdout.on('data', (chunk: Buffer) => {
      if (broken) return;
      parser.push(chunk);
      child.stdout.pause();
      reading = true;
      whenIdle(readSome);
    });
    // A socket end from the spawner comes paused: its data flows from here on.
    child.stdout.resume();
    child.onStderr((s: string) => {
      stderr += s;
    });
    let failed = false;
    child.onError((e) => {
      failed = true;
      tally.error(roots[0]!, new Error(`cannot run find: ${e.message}`));
    });
    child.onClose((code, signal) => {
      let over = false;
      closed = () => {
        // Once: a reading turn that ends after find has closed calls this too.
        if (over) return;
        over = true;
        for (const line of stderr.split('\n')) {
          if (!line) continue;
          const { path, error } = parseFindError(line);
          tally.error(path === null ? roots[0]! : asGiven(path), error);
        }
        if (capture) for (let d = open.length - 1; d >= 0; d--) close(d);
        // A find that could not start, or was stopped for output it could not read, has said so.
        if (broken || failed) {
          // nothing more to say
        } else if (signal) tally.error(roots[0]!, new Error(`find stopped by ${signal}`));
        else if (parser.pending) tally.error(roots[0]!, new Error('find stopped in the middle of a record'));
        else if (code !== 0 && !stderr) tally.error(roots[0]!, new Error(`find exited with status ${code}`));
        done();
      };
      if (!reading) closed();
    });
  });
}
