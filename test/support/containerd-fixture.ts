// The containerd-store acceptance fixture: the overlay2 fixture's cases (fixture-host.ts) built on a
// private dockerd 26.1 on the containerd image store (containerd-store.ts), plus a leaked snapshot
// dir and an abandoned download. Built once per mocha process (a lazy singleton); the root hook's
// stopAllDaemons stops it. What containerd said about it (snapshots, which dir is which, the
// manifests) is recorded here for the oracles (containerd-oracles.ts).
//
// Order matters: any snapshot removal makes the overlayfs snapshotter delete every snapshots/<id>
// it has no record of (containerd source, and docs/containerd-store-layout.md), so the leaked dir
// is made last, after the probes' clean-up, and nothing removes a snapshot until the daemon stops.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { run } from './commands.js';
import {
  CONTENT, SNAPSHOTTER, mapSnapshotIds, parseSnapshots, readManifests, snapshotDirs,
  type ImageManifest, type Snapshot,
} from './containerd-ctr.js';
import { startContainerdStore, type ContainerdStoreDaemon } from './containerd-store.js';
import type { CdHost } from './containerd-oracles.js';
import { makeBaseImage } from './dockerd.js';
import { runFixtureContainers } from './fixture-containers.js';
import {
  buildClassic, buildKit, inspectImage, type FixtureContainer, type FixtureImage,
} from './fixture-builders.js';
import {
  EIGHT_BYTES, HARDLINK_BYTES, LEAKED_BYTES, LOG_LINES, MID_BYTES, OPAQUE_BIG_BYTES, SIX_BYTES, TWO_BYTES, VOLUME_BYTES,
} from './fixture-host.js';

/** The abandoned download: `ctr content ingest --expected-size INGEST_EXPECTED` fed INGEST_WRITTEN bytes. */
export const INGEST_REF = 'ldu-partial';
export const INGEST_EXPECTED = 50_000;
export const INGEST_WRITTEN = 12_345;
export const BUILDKIT_RUN_BYTES = 65_536;
export const HELLO = 'hello from buildkit\n';

export type CdImageName = 'base' | 'sharedA' | 'sharedB' | 'waste' | 'opaque' | 'hardlink' | 'buildkit' | 'six';
export type CdImage = FixtureImage & { topChainId: string; manifest: ImageManifest; blobs: string[] };

export interface CdFixture extends CdHost {
  daemon: ContainerdStoreDaemon;
  host: string;
  images: Record<CdImageName, CdImage>;
  containers: {
    created: FixtureContainer;
    copyUp: FixtureContainer;
    logger: FixtureContainer;
    running: FixtureContainer;
    rotated: FixtureContainer;
  };
  volume: { name: string; bytesWritten: number; mountpoint: string };
  /** Dirs of View snapshots (BuildKit's): ctr places their parents, not them. */
  viewDirs: string[];
  /** snapshots/<n> made by hand, n unused: fs/leaked.bin. */
  leaked: { id: string; path: string; file: string; bytes: number };
  /** ingest/<sha256 of the backend ref>/, data = INGEST_WRITTEN bytes of INGEST_EXPECTED. */
  ingest: { ref: string; path: string; written: number; expected: number };
  /** Seconds: the whole build, and the key → dir probing in it. */
  buildSeconds: number;
  probeSeconds: number;
}

/** Builds the whole fixture on a fresh containerd-store daemon. */
export async function buildCdFixture(): Promise<CdFixture> {
  const started = Date.now();
  const d = await startContainerdStore();
  try {
    await makeBaseImage(d, 'base:latest');
    const base = await inspectImage(d, 'base:latest');
    // As in fixture-host.ts: shared-b reuses shared-a's first RUN from the classic builder's cache.
    const midSteps = `FROM base:latest\nRUN head -c ${MID_BYTES} /dev/urandom > /mid.bin\n`;
    const sharedA = await buildClassic(d, 'shared-a:latest', `${midSteps}RUN echo a > /a.txt\n`);
    const [sharedB, waste, opaque, hardlink, six] = await Promise.all([
      buildClassic(d, 'shared-b:latest', `${midSteps}RUN head -c 4096 /dev/urandom > /b.bin\n`),
      buildClassic(
        d,
        'waste:latest',
        ['FROM base:latest', 'COPY eight.bin /eight.bin', 'RUN rm /eight.bin',
          `RUN head -c ${TWO_BYTES} /dev/urandom > /two.bin`, `RUN head -c ${TWO_BYTES} /dev/urandom > /two.bin`, ''].join('\n'),
        { 'eight.bin': randomBytes(EIGHT_BYTES) },
      ),
      buildClassic(
        d,
        'opaque:latest',
        ['FROM base:latest',
          `RUN mkdir /data && head -c ${OPAQUE_BIG_BYTES} /dev/urandom > /data/big.bin && echo keep > /data/keep.txt`,
          'RUN rm -rf /data && mkdir /data && echo new > /data/new.txt', ''].join('\n'),
      ),
      buildClassic(d, 'hardlink:latest', `FROM base:latest\nRUN head -c ${HARDLINK_BYTES} /dev/urandom > /h1.bin && ln /h1.bin /h2.bin\n`),
      buildClassic(d, 'six:latest', `FROM base:latest\nRUN mkdir -p /data && head -c ${SIX_BYTES} /dev/urandom > /data/six.bin\n`),
    ]);
    if (sharedA.chainIds[1] !== sharedB.chainIds[1]) throw new Error('shared-b did not reuse shared-a\'s middle layer');
    const buildkit = await buildKit(
      d,
      'buildkit:latest',
      `FROM base:latest\nRUN head -c ${BUILDKIT_RUN_BYTES} /dev/urandom > /bk.bin\nCOPY hello.txt /hello.txt\n`,
      { 'hello.txt': HELLO },
    );

    const { containers, volume } = await runFixtureContainers(d, { base, six }, { volumeBytes: VOLUME_BYTES, logLines: LOG_LINES });

    // What containerd says, once everything is built; then which dir is which.
    const snapshots: Map<string, Snapshot> = parseSnapshots(await d.ctr(['snapshots', 'ls']));
    const probe = await mapSnapshotIds(d, snapshots);
    const plain = { base, sharedA, sharedB, waste, opaque, hardlink, buildkit, six };
    const manifests = await readManifests(d, Object.values(plain).map((i) => i.id));
    const images = {} as Record<CdImageName, CdImage>;
    for (const [name, img] of Object.entries(plain) as Array<[CdImageName, FixtureImage]>) {
      const manifest = manifests.get(img.id)!;
      const blobs = [manifest.target.digest, manifest.config.digest, ...manifest.layers.map((l) => l.digest)];
      images[name] = { ...img, topChainId: img.chainIds[img.chainIds.length - 1]!, manifest, blobs };
    }

    const croot = d.containerd.root;
    const snapshotsDir = path.join(croot, SNAPSHOTTER, 'snapshots');
    // The abandoned download: ctr fails at the end (too few bytes) and leaves the ingest behind.
    const ingestDir = path.join(croot, CONTENT, 'ingest');
    // The daemon may still be finishing a transfer of its own from the steps above: wait until
    // its ingests hold still, and know ours by the ref containerd keeps beside its data.
    const ingests = () => readdir(ingestDir).catch(() => [] as string[]);
    let ingestsBefore = new Set(await ingests());
    for (let still = 0, waited = 0; still < 4 && waited < 80; waited++) {
      await new Promise((r) => setTimeout(r, 250));
      const now = new Set(await ingests());
      still = now.size === ingestsBefore.size && [...now].every((n) => ingestsBefore.has(n)) ? still + 1 : 0;
      ingestsBefore = now;
    }
    const committed = await run(
      d.bins.ctr,
      ['--address', d.containerd.socket, '-n', 'moby', 'content', 'ingest', '--expected-size', String(INGEST_EXPECTED), INGEST_REF],
      { input: randomBytes(INGEST_WRITTEN), timeoutMs: 60_000 },
    ).then(() => true, () => false);
    if (committed) throw new Error('ctr content ingest of too few bytes succeeded');
    const refOf = (n: string) => readFile(path.join(ingestDir, n, 'ref'), 'utf8').catch(() => '');
    const fresh: string[] = [];
    // containerd keys a backend ref by namespace and lease (`moby-1-<ref>`, the unit literals show).
    const ours = (r: string) => r === INGEST_REF || r.endsWith(`-${INGEST_REF}`) || r.endsWith(`/${INGEST_REF}`);
    for (const n of (await readdir(ingestDir)).filter((x) => !ingestsBefore.has(x))) if (ours((await refOf(n)).trim())) fresh.push(n);
    if (fresh.length !== 1) throw new Error(`expected one new ingest, found ${fresh.join(' ') || 'none'}`);
    const ingestPath = path.join(ingestDir, fresh[0]!);
    const written = (await stat(path.join(ingestPath, 'data'))).size;
    if (written !== INGEST_WRITTEN) throw new Error(`ingest data is ${written} bytes, not ${INGEST_WRITTEN}`);

    // The leaked snapshot dir, last: an id well past every one the snapshotter has given out.
    const ids = await snapshotDirs(croot);
    const leakedId = String(Math.max(...ids.map(Number)) + 1000);
    const leakedPath = path.join(snapshotsDir, leakedId);
    const leakedFile = path.join(leakedPath, 'fs', 'leaked.bin');
    await mkdir(path.dirname(leakedFile), { recursive: true });
    await writeFile(leakedFile, randomBytes(LEAKED_BYTES));

    return {
      daemon: d,
      root: d.root,
      host: d.host,
      containerdRoot: croot,
      snapshotsDir,
      blobsDir: path.join(croot, CONTENT, 'blobs', 'sha256'),
      snapshots,
      idOfKey: probe.idOfKey,
      viewDirs: probe.viewDirs,
      images,
      containers,
      volume,
      leaked: { id: leakedId, path: leakedPath, file: leakedFile, bytes: LEAKED_BYTES },
      ingest: { ref: INGEST_REF, path: ingestPath, written: INGEST_WRITTEN, expected: INGEST_EXPECTED },
      buildSeconds: (Date.now() - started) / 1000,
      probeSeconds: probe.seconds,
    };
  } catch (e) {
    const err = e as Error;
    err.message = `containerd fixture build failed: ${err.message}`;
    await d.stop().catch(() => undefined);
    throw err;
  }
}

let fixture: Promise<CdFixture> | null = null;

/** The fixture, built on first use and shared by every containerd test of the run. */
export function getCdFixture(): Promise<CdFixture> {
  fixture ??= buildCdFixture().then((fx) => {
    console.log(`      containerd fixture built in ${fx.buildSeconds.toFixed(1)} s (probing ${fx.probeSeconds.toFixed(1)} s)`);
    return fx;
  });
  return fixture;
}
