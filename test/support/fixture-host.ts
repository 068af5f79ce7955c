// The acceptance fixture: one private overlay2 daemon holding every case the core tests check.
// Built once per test run (a lazy singleton); the root hook in hooks.ts stops the daemon. What it
// is built with (image builds, layerdb readers, settle) lives in fixture-builders.ts, re-exported
// here for the tests that import it from this file.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { makeBaseImage, startDaemon, type Daemon } from './dockerd.js';
import { runFixtureContainers } from './fixture-containers.js';
import {
  buildClassic, buildKit, inspectImage, readLayerDb,
  type FixtureContainer, type FixtureImage, type LayerDbEntry,
} from './fixture-builders.js';

export {
  buildClassic, buildKit, chainIds, inspectImage, layerDbDir, logFiles, mountOf, readLayerDb, settle,
  type FixtureContainer, type FixtureImage, type LayerDbEntry,
} from './fixture-builders.js';

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

    const { containers, volume } = await runFixtureContainers(d, { base, six }, { volumeBytes: VOLUME_BYTES, logLines: LOG_LINES });

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
      containers,
      volume,
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
