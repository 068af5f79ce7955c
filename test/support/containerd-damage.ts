// A small containerd-store host for the damaged-metadata tests: built on a private daemon, both
// daemons stopped, both roots copied with `cp -a` (the daemon's own roots are never written),
// and copies of those copies damaged: a bbolt file corrupted, truncated, or rewritten in place
// while layerdu reads it. Corruption and truncation are aimed with the file's own meta page (bbolt
// format: page header 16 bytes, then magic, version, pageSize, flags, root bucket {pgid, sequence},
// freelist, pgid, txid, checksum), so that no reader can take the damaged file for a sound one.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from './commands.js';
import { startContainerdStore, stopKeepingFiles } from './containerd-store.js';
import { makeBaseImage } from './dockerd.js';
import { buildClassic, inspectImage, settle, type FixtureImage } from './fixture-builders.js';

export const DMG_VOLUME = 'ldu-dvol';
export const DMG_VOLUME_BYTES = 100_000;
export const DMG_LOG_LINES = 1000;

export interface Roots {
  root: string;
  containerdRoot: string;
}

export interface DamageHost {
  /** The scratch directory holding every copy. */
  dir: string;
  /** The undamaged copy: `<dir>/pristine/{docker,containerd}`. */
  pristine: Roots;
  images: FixtureImage[];
  writer: { id: string; log: string };
  volumeData: string;
  buildSeconds: number;
}


export function rootsIn(dir: string): Roots {
  return { root: path.join(dir, 'docker'), containerdRoot: path.join(dir, 'containerd') };
}

/** Builds the host, stops dockerd then containerd (keeping their files), copies both roots. */
export async function buildDamageHost(): Promise<DamageHost> {
  const t0 = Date.now();
  const d = await startContainerdStore();
  const dir = await mkdtemp('/tmp/ldu-cdmg-');
  try {
    await makeBaseImage(d, 'base:latest');
    const base = await inspectImage(d, 'base:latest');
    const classic = await buildClassic(d, 'classic:latest', 'FROM base:latest\nRUN head -c 1048576 /dev/urandom > /one.bin\n');
    await d.docker(['volume', 'create', DMG_VOLUME]);
    await d.docker([
      'run', '--network=none', '--name', 'writer', '-v', `${DMG_VOLUME}:/vol`, 'base:latest', 'sh', '-c',
      `head -c ${DMG_VOLUME_BYTES} /dev/urandom > /vol/v.bin && head -c 100000 /dev/urandom > /w.bin && seq 1 ${DMG_LOG_LINES}`,
    ]);
    const id = (await d.docker(['inspect', '--format', '{{.Id}}', 'writer'])).trim();
    await settle(path.join(d.root, 'containers', id, `${id}-json.log`));
    await stopKeepingFiles(d);
    const pristine = rootsIn(path.join(dir, 'pristine'));
    await mkdir(path.dirname(pristine.root), { recursive: true });
    await run('cp', ['-a', d.root, pristine.root]);
    await run('cp', ['-a', d.containerd.root, pristine.containerdRoot]);
    return {
      dir,
      pristine,
      images: [base, classic],
      writer: { id, log: path.join(pristine.root, 'containers', id, `${id}-json.log`) },
      volumeData: path.join(pristine.root, 'volumes', DMG_VOLUME, '_data'),
      buildSeconds: (Date.now() - t0) / 1000,
    };
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  } finally {
    await d.stop();
  }
}

/** A fresh copy of the pristine roots under `<dir>/<name>`. */
export async function copyOf(h: DamageHost, name: string): Promise<Roots> {
  const to = path.join(h.dir, name);
  await run('cp', ['-a', path.dirname(h.pristine.root), to]);
  return rootsIn(to);
}

export interface BoltMeta {
  pageSize: number;
  /** The root bucket's page, from the newer of the two meta pages. */
  rootPage: number;
  /** The high-water mark: pages in use. */
  pages: number;
  size: number;
}

const MAGIC = 0xed0cdaed;

/** The current meta page of a bbolt file; throws when neither meta page has the magic. */
export function boltMeta(buf: Buffer): BoltMeta {
  const at = (off: number) =>
    buf.length >= off + 72 && buf.readUInt32LE(off + 16) === MAGIC
      ? {
          pageSize: buf.readUInt32LE(off + 24),
          rootPage: Number(buf.readBigUInt64LE(off + 32)),
          pages: Number(buf.readBigUInt64LE(off + 56)),
          txid: buf.readBigUInt64LE(off + 64),
        }
      : null;
  const m0 = at(0);
  const m1 = m0 ? at(m0.pageSize) : null;
  const m = m0 && m1 ? (m1.txid > m0.txid ? m1 : m0) : (m0 ?? m1);
  if (!m) throw new Error('no bbolt meta page');
  return { pageSize: m.pageSize, rootPage: m.rootPage, pages: m.pages, size: buf.length };
}

/** The valid page types of bbolt (branch, leaf, meta, freelist). */
export const PAGE_FLAGS = [0x01, 0x02, 0x04, 0x10];

/** The flags of the page the meta names as the root bucket's (null: beyond the end of the file). */
export async function rootPageFlags(file: string): Promise<number | null> {
  const buf = await readFile(file);
  const m = boltMeta(buf);
  const off = m.rootPage * m.pageSize;
  return off + 16 <= buf.length ? buf.readUInt16LE(off + 8) : null;
}

/** Every page after the two meta pages overwritten with 0xA5: the metas point into garbage. */
export async function corrupt(file: string): Promise<string> {
  const buf = await readFile(file);
  const m = boltMeta(buf);
  buf.fill(0xa5, 2 * m.pageSize);
  await writeFile(file, buf);
  return `pages 2..${Math.ceil(buf.length / m.pageSize) - 1} of ${file} filled with 0xA5 (root bucket at page ${m.rootPage})`;
}

/** Cut just before the root bucket's page: the metas are sound, the tree is gone. */
export async function truncateBeforeRoot(file: string): Promise<string> {
  const buf = await readFile(file);
  const m = boltMeta(buf);
  const len = m.rootPage * m.pageSize;
  if (len >= buf.length || m.rootPage < 2) throw new Error(`${file}: root page ${m.rootPage} of a ${buf.length}-byte file`);
  await truncate(file, len);
  return `${file} cut from ${buf.length} to ${len} bytes (root bucket at page ${m.rootPage})`;
}

// Rewrites the file in place, as a writer that truncates and writes page by page would: open with
// O_TRUNC, then 4096 bytes at a time with a millisecond's pause every 8 pages, over and over, so
// that a reader mostly finds it short. Every byte written is the file's own: any complete read is sound.
const REWRITER = `
const fs = require('node:fs');
const file = process.argv[1];
const data = fs.readFileSync(file);
const pause = new Int32Array(new SharedArrayBuffer(4));
process.stdout.write('ready\\n');
for (;;) {
  const fd = fs.openSync(file, 'w');
  for (let o = 0, n = 0; o < data.length; o += 4096, n++) {
    fs.writeSync(fd, data, o, Math.min(4096, data.length - o), o);
    if (n % 8 === 7) Atomics.wait(pause, 0, 0, 1);
  }
  fs.closeSync(fd);
  Atomics.wait(pause, 0, 0, 1);
}
`;

/** Starts rewriting `file`; stop() kills the rewriter (by its pid) and leaves the file whole. */
export async function startRewriter(file: string): Promise<{ stop(): Promise<{ fullDisk: number }> }> {
  const intact = await readFile(file);
  const child = spawn(process.execPath, ['-e', REWRITER, file], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`rewriter exited ${code}`)));
  });
  await sleep(50); // a few passes before the reader starts
  return {
    async stop() {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      await exited;
      await writeFile(file, intact); // whole again, written out (not sparse), as the rewriter left it
      return { fullDisk: (await stat(file)).blocks * 512 };
    },
  };
}
