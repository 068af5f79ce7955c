// The acceptance fixture: one private overlay2 daemon holding every case the core tests check.
// Built once per test run (a lazy singleton); the root hook in hooks.ts stops the daemon.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { listDir, makeBaseImage, readText, startDaemon, type Daemon } from './dockerd.js';

export const MiB = 1024 * 1024;
export const MID_BYTES = 1 * MiB; // the middle layer shared by shared-a and shared-b
export const EIGHT_BYTES = 8 * MiB; // COPY'd, then removed: wasted
export const TWO_BYTES = 2 * MiB; // written twice at one path: the first copy is wasted
export const WASTED_APPARENT = EIGHT_BYTES + TWO_BYTES; // 10485760
export const HARDLINK_BYTES = 2 * MiB; // one file, two names, one RUN
// /data/big.bin and /data/keep.txt ("keep\n"), then a later RUN replaces /data wholesale
// (rm -rf, mkdir): overlayfs marks the new /data opaque, and both lower files are wasted.
export const OPAQUE_BIG_BYTES = 3 * MiB;
export const OPAQUE_HIDDEN_APPARENT = OPAQUE_BIG_BYTES + 'keep\n'.length;
export const SIX_BYTES = 6 * MiB; // /data/six.bin, appended to by the copy-up container
export const VOLUME_BYTES = 3 * MiB; // written into the named volume
export const LOG_LINES = 20000;
export const LEAKED_BYTES = 1 * MiB;

export interface FixtureImage {
  tag: string;
  id: string;
  /** RootFS.Layers, bottom first. */
  diffIds: string[];
  /** Computed from diffIds (sha256 of "parent diffId"), bottom first. */
  chainIds: string[];
}

export interface FixtureContainer {
  name: string;
  id: string;
  imageId: string;
}

export interface Fixture {
  daemon: Daemon;
  root: string;
  host: string;
  images: {
    base: FixtureImage;
    sharedA: FixtureImage;
    sharedB: FixtureImage;
    waste: FixtureImage;
    opaque: FixtureImage;
    hardlink: FixtureImage;
    buildkit: FixtureImage;
    six: FixtureImage;
  };
  containers: {
    /** `docker create`d, never started. */
    created: FixtureContainer;
    /** Ran `echo x >> /data/six.bin` on the 6 MiB image and exited: 6 MiB copied up. */
    copyUp: FixtureContainer;
    /** Wrote VOLUME_BYTES into the volume, printed LOG_LINES lines and exited. */
    logger: FixtureContainer;
    /** Still running `sleep 3600`. */
    running: FixtureContainer;
    /** Logged past json-file's max-size with compress=true: rotated `.N.gz` files beside the log. */
    rotated: FixtureContainer;
  };
  volume: { name: string; bytesWritten: number; mountpoint: string };
  /** overlay2/<64 hex> made by hand: nothing refers to it. */
  leaked: { id: string; path: string; file: string; bytes: number };
  /** Every 25-character directory under overlay2/ (BuildKit's snapshot ids). */
  buildKitDirs: string[];
  /**
   * The 25-character directories no layerdb cache-id names: build cache proper. (BuildKit's
   * exported image layers keep their 25-character snapshot id as their layerdb cache-id.)
   */
  buildCacheDirs: string[];
  /** layerdb as read from disk, by chain id. */
  layerdb: Map<string, LayerDbEntry>;
  /** Wall time of the build, in seconds. */
  buildSeconds: number;
}

export interface LayerDbEntry {
  chainId: string;
  diffId: string | null;
  cacheId: string | null;
  size: number | null;
  parent: string | null;
}

/** Reads `<root>/image/overlay2/layerdb/sha256/*` into a map by chain id. */
export async function readLayerDb(root: string): Promise<Map<string, LayerDbEntry>> {
  const dir = path.join(root, 'image', 'overlay2', 'layerdb', 'sha256');
  const out = new Map<string, LayerDbEntry>();
  for (const hex of await listDir(dir)) {
    const p = path.join(dir, hex);
    const size = await readText(path.join(p, 'size'));
    out.set(`sha256:${hex}`, {
      chainId: `sha256:${hex}`,
      diffId: await readText(path.join(p, 'diff')),
      cacheId: await readText(path.join(p, 'cache-id')),
      size: size === null ? null : Number(size),
      parent: await readText(path.join(p, 'parent')),
    });
  }
  return out;
}

/** `<root>/image/overlay2/layerdb/sha256/<hex of chainId>` */
export function layerDbDir(root: string, chainId: string): string {
  return path.join(root, 'image', 'overlay2', 'layerdb', 'sha256', chainId.replace(/^sha256:/, ''));
}

/** A container's writable and init layer ids, from `<root>/image/<driver>/layerdb/mounts/<id>`. */
export async function mountOf(root: string, containerId: string, driver = 'overlay2'): Promise<{ mountId: string; initId: string | null }> {
  const dir = path.join(root, 'image', driver, 'layerdb', 'mounts', containerId);
  const mountId = await readText(path.join(dir, 'mount-id'));
  if (!mountId) throw new Error(`${dir}/mount-id: missing`);
  return { mountId, initId: await readText(path.join(dir, 'init-id')) };
}

/** The json-file logs of a container, rotated ones included. */
export async function logFiles(root: string, containerId: string): Promise<string[]> {
  const dir = path.join(root, 'containers', containerId);
  return (await listDir(dir))
    .filter((n) => n.startsWith(`${containerId}-json.log`))
    .sort()
    .map((n) => path.join(dir, n));
}

export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? d : `sha256:${createHash('sha256').update(`${prev} ${d}`).digest('hex')}`);
  }
  return out;
}

export async function inspectImage(d: Daemon, ref: string): Promise<FixtureImage> {
  const [info] = JSON.parse(await d.docker(['image', 'inspect', ref])) as Array<{
    Id: string;
    RootFS: { Layers: string[] };
  }>;
  if (!info) throw new Error(`image inspect ${ref}: no answer`);
  return { tag: ref, id: info.Id, diffIds: info.RootFS.Layers, chainIds: chainIds(info.RootFS.Layers) };
}

/** Classic-builder build of a context holding `Dockerfile` and the given files. */
export async function buildClassic(
  d: Daemon,
  tag: string,
  dockerfile: string,
  files: Record<string, string | Buffer> = {},
): Promise<FixtureImage> {
  return build(d, tag, dockerfile, files, false);
}

/** BuildKit build (DOCKER_BUILDKIT=1, --network=none). */
export async function buildKit(
  d: Daemon,
  tag: string,
  dockerfile: string,
  files: Record<string, string | Buffer> = {},
): Promise<FixtureImage> {
  return build(d, tag, dockerfile, files, true);
}

async function build(
  d: Daemon,
  tag: string,
  dockerfile: string,
  files: Record<string, string | Buffer>,
  buildkit: boolean,
): Promise<FixtureImage> {
  const ctx = await mkdtemp(path.join(tmpdir(), 'ldu-ctx-'));
  try {
    await writeFile(path.join(ctx, 'Dockerfile'), dockerfile);
    for (const [name, content] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(ctx, name)), { recursive: true });
      await writeFile(path.join(ctx, name), content);
    }
    const args = ['build', '--network=none', '-t', tag];
    if (buildkit) args.push('--progress=plain');
    else args.push('--rm', '--force-rm');
    args.push(ctx);
    await d.docker(args, { env: { DOCKER_BUILDKIT: buildkit ? '1' : '0' } });
    return await inspectImage(d, tag);
  } finally {
    await rm(ctx, { recursive: true, force: true });
  }
}

async function containerId(d: Daemon, name: string): Promise<string> {
  return (await d.docker(['inspect', '--format', '{{.Id}}', name])).trim();
}

async function container(d: Daemon, name: string, image: FixtureImage): Promise<FixtureContainer> {
  return { name, id: await containerId(d, name), imageId: image.id };
}

/** Waits until a file's size stops changing (the json-file logger is asynchronous). */
export async function settle(file: string): Promise<void> {
  let last = -1;
  for (let i = 0; i < 100; i++) {
    const size = await stat(file).then((s) => s.size, () => -1);
    if (size === last && size > 0) return;
    last = size;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${file} did not settle`);
}

/** Waits until the rotated logs are all compressed and none changes any more (gzip runs async). */
async function settleRotation(dir: string, id: string): Promise<void> {
  let last = '';
  for (let i = 0; i < 50; i++) {
    const names = (await listDir(dir)).filter((n) => n.startsWith(`${id}-json.log`)).sort();
    const sizes = await Promise.all(names.map((n) => stat(path.join(dir, n)).then((s) => `${n}:${s.size}`, () => n)));
    const now = sizes.join(',');
    const compressed = names.filter((n) => n.endsWith('.gz')).length;
    if (now === last && compressed === names.length - 1 && compressed > 0) return;
    last = now;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`fixture: the rotated logs in ${dir} did not settle`);
}

/** Builds the whole fixture on a fresh daemon. */
export async function buildFixture(): Promise<Fixture> {
  const started = Date.now();
  const d = await startDaemon();
  try {
    await makeBaseImage(d, 'base:latest');
    const base = await inspectImage(d, 'base:latest');

    const eight = randomBytes(EIGHT_BYTES);
    // Two images sharing base and a middle layer: the classic builder's cache reuses the
    // first RUN of shared-a for shared-b, so the 1 MiB layer is one layer in both.
    const midSteps = `FROM base:latest\nRUN head -c ${MID_BYTES} /dev/urandom > /mid.bin\n`;
    const sharedA = await buildClassic(d, 'shared-a:latest', `${midSteps}RUN echo a > /a.txt\n`);

    const [sharedB, waste, opaque, hardlink, six] = await Promise.all([
      buildClassic(d, 'shared-b:latest', `${midSteps}RUN head -c 4096 /dev/urandom > /b.bin\n`),
      buildClassic(
        d,
        'waste:latest',
        [
          'FROM base:latest',
          'COPY eight.bin /eight.bin',
          'RUN rm /eight.bin',
          `RUN head -c ${TWO_BYTES} /dev/urandom > /two.bin`,
          `RUN head -c ${TWO_BYTES} /dev/urandom > /two.bin`,
          '',
        ].join('\n'),
        { 'eight.bin': eight },
      ),
      buildClassic(
        d,
        'opaque:latest',
        [
          'FROM base:latest',
          `RUN mkdir /data && head -c ${OPAQUE_BIG_BYTES} /dev/urandom > /data/big.bin && echo keep > /data/keep.txt`,
          'RUN rm -rf /data && mkdir /data && echo new > /data/new.txt',
          '',
        ].join('\n'),
      ),
      buildClassic(
        d,
        'hardlink:latest',
        `FROM base:latest\nRUN head -c ${HARDLINK_BYTES} /dev/urandom > /h1.bin && ln /h1.bin /h2.bin\n`,
      ),
      buildClassic(
        d,
        'six:latest',
        `FROM base:latest\nRUN mkdir -p /data && head -c ${SIX_BYTES} /dev/urandom > /data/six.bin\n`,
      ),
    ]);
    const buildkit = await buildKit(
      d,
      'buildkit:latest',
      'FROM base:latest\nRUN head -c 65536 /dev/urandom > /bk.bin\nCOPY hello.txt /hello.txt\n',
      { 'hello.txt': 'hello from buildkit\n' },
    );

    // Containers.
    await d.docker(['create', '--network=none', '--name', 'created', 'base:latest', 'true']);
    const created = await container(d, 'created', base);

    await d.docker(['run', '--network=none', '--name', 'copyup', 'six:latest', 'sh', '-c', 'echo x >> /data/six.bin']);
    const copyUp = await container(d, 'copyup', six);

    const volumeName = 'ldu-vol';
    await d.docker(['volume', 'create', volumeName]);
    await d.docker([
      'run', '--network=none', '--name', 'logger', '-v', `${volumeName}:/vol`, 'base:latest',
      'sh', '-c', `head -c ${VOLUME_BYTES} /dev/urandom > /vol/three.bin && seq 1 ${LOG_LINES} | sed 's/^/log line /'`,
    ]);
    const logger = await container(d, 'logger', base);
    await settle(path.join(d.root, 'containers', logger.id, `${logger.id}-json.log`));

    await d.docker(['run', '-d', '--network=none', '--name', 'running', 'base:latest', 'sleep', '3600']);
    const running = await container(d, 'running', base);

    await d.docker([
      'run', '--network=none', '--name', 'rotated',
      '--log-opt', 'max-size=64k', '--log-opt', 'max-file=4', '--log-opt', 'compress=true',
      'base:latest', 'sh', '-c', `seq 1 ${LOG_LINES} | sed 's/^/rotated line /'`,
    ]);
    const rotated = await container(d, 'rotated', base);
    await settleRotation(path.join(d.root, 'containers', rotated.id), rotated.id);

    // A leaked layer directory: made by hand while the daemon runs; the daemon ignores it.
    const leakedId = randomBytes(32).toString('hex');
    const leakedPath = path.join(d.root, 'overlay2', leakedId);
    const leakedFile = path.join(leakedPath, 'diff', 'leaked.bin');
    await mkdir(path.dirname(leakedFile), { recursive: true });
    await writeFile(leakedFile, randomBytes(LEAKED_BYTES));

    const layerdb = await readLayerDb(d.root);
    const cacheIds = new Set([...layerdb.values()].map((l) => l.cacheId));
    const buildKitDirs = (await readdir(path.join(d.root, 'overlay2'))).filter((n) => n.length === 25).sort();
    const buildCacheDirs = buildKitDirs.filter((n) => !cacheIds.has(n));
    if (buildCacheDirs.length === 0) {
      throw new Error(`fixture: BuildKit left no 25-character cache directory under ${d.root}/overlay2`);
    }

    return {
      daemon: d,
      root: d.root,
      host: d.host,
      images: { base, sharedA, sharedB, waste, opaque, hardlink, buildkit, six },
      containers: { created, copyUp, logger, running, rotated },
      volume: { name: volumeName, bytesWritten: VOLUME_BYTES, mountpoint: path.join(d.root, 'volumes', volumeName, '_data') },
      leaked: { id: leakedId, path: leakedPath, file: leakedFile, bytes: LEAKED_BYTES },
      buildKitDirs,
      buildCacheDirs,
      layerdb,
      buildSeconds: (Date.now() - started) / 1000,
    };
  } catch (e) {
    const err = e as Error;
    err.message = `fixture build failed: ${err.message}`;
    await d.stop().catch(() => undefined);
    throw err;
  }
}

let fixture: Promise<Fixture> | null = null;

/** The fixture, built on first use and shared by every test of the run. */
export function getFixture(): Promise<Fixture> {
  fixture ??= buildFixture();
  return fixture;
}

/** Stops the fixture's daemon, if it was started (the root hook calls this). */
export async function stopFixture(): Promise<void> {
  if (!fixture) return;
  const f = fixture;
  fixture = null;
  try {
    await (await f).daemon.stop();
  } catch {
    /* a failed build stopped its own daemon */
  }
}
