// Records the golden test's docker root: a private dockerd builds a small host holding every case
// layerdu reports on, stops, and its data root is written as test/fixtures/docker-root/root.tar.gz
// (plus recording.json: what Docker itself said). Run by hand, as root, never by the suite:
//
//   npm run record-root            # then UPDATE_GOLDEN=1 on the golden test, and review the diff
//
// Flags: --keep (keep the recorded root under /tmp to look at), --out DIR (write elsewhere).
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeBaseImage, run, startDaemon, type Daemon } from './dockerd.js';
import { buildClassic, buildKit, inspectImage, readLayerDb, settle, type FixtureImage } from './fixture-host.js';
import { FIXTURE_DIR, GOLDEN, TAR_CREATE, type Recording } from './golden-root.js';
import { containersWithSize, systemDf } from './oracles.js';

const G = GOLDEN;

/** A shell command writing `bytes` bytes of compressible text (the tar stays small) to `file`. */
const fill = (file: string, bytes: number, word: string) => `yes ${word} | head -c ${bytes} > ${file}`;

/** Pattern bytes for a build-context file (compressible, not zeros: never mistaken for holes). */
function pattern(bytes: number, word: string): Buffer {
  return Buffer.alloc(bytes, `${word}\n`);
}

/** What is not the store: the harness puts the daemon's socket, pid, log and exec root in the root. */
const EXCLUDED: Record<string, string> = {
  'docker.sock': 'the daemon socket (elsewhere on a real host)',
  pid: "the daemon's pid file",
  'dockerd.log': "the harness's daemon log",
  exec: 'the exec root (/var/run/docker on a real host): runtime state',
  containerd: "the containerd that dockerd started: its own runtime root, not Docker's store",
};

async function cid(d: Daemon, name: string): Promise<string> {
  return (await d.docker(['inspect', '--format', '{{.Id}}', name])).trim();
}

/** Stops dockerd WITHOUT removing its containers (Daemon.stop() removes them first). */
async function stopKeepingContainers(d: Daemon): Promise<void> {
  process.kill(d.pid, 'SIGTERM');
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      process.kill(d.pid, 0);
    } catch {
      break; // gone and reaped
    }
    if (Date.now() > deadline) throw new Error(`dockerd ${d.pid} did not stop within 60 s`);
    await sleep(200);
  }
  await sleep(500); // let the child's 'exit' event run, so stop() below only cleans up
  await d.stop(); // the daemon is down: kills strays, unmounts leftovers, keeps the root
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('record-root must run as root (it starts dockerd)');
  const keep = process.argv.includes('--keep');
  const outIdx = process.argv.indexOf('--out');
  const outDir = outIdx > 0 ? path.resolve(process.argv[outIdx + 1]!) : FIXTURE_DIR;

  // A short path: the daemon's socket lives in the root and unix socket paths are short.
  const work = await mkdtemp('/tmp/ldu-rec-');
  const root = path.join(work, 'root');
  const d = await startDaemon({ dataRoot: root });
  let stopped = false;
  try {
    const images: Record<string, FixtureImage> = {};
    await makeBaseImage(d, 'base:latest');
    images.base = await inspectImage(d, 'base:latest');

    // shared-a and shared-b: the classic builder's cache reuses the first RUN, one layer in both.
    const mid = `FROM base:latest\nRUN ${fill('/mid.bin', G.midBytes, 'mid')}\n`;
    images.sharedA = await buildClassic(d, 'shared-a:latest', `${mid}RUN echo a > /a.txt\n`);
    images.sharedB = await buildClassic(d, 'shared-b:latest', `${mid}RUN ${fill('/b.bin', G.bBytes, 'b')}\n`);
    images.waste = await buildClassic(
      d,
      'waste:latest',
      'FROM base:latest\nCOPY small.bin /small.bin\nRUN rm /small.bin\n',
      { 'small.bin': pattern(G.removedBytes, 'small') },
    );
    images.overwrite = await buildClassic(
      d,
      'overwrite:latest',
      `FROM base:latest\nRUN ${fill('/two.bin', G.overwrittenBytes, 'first')}\nRUN ${fill('/two.bin', G.overwrittenBytes, 'second')}\n`,
    );
    images.opaque = await buildClassic(
      d,
      'opaque:latest',
      [
        'FROM base:latest',
        `RUN mkdir /d && ${fill('/d/big.bin', G.opaqueBigBytes, 'big')} && echo keep > /d/keep.txt`,
        'RUN rm -rf /d && mkdir /d && echo new > /d/new.txt',
        '',
      ].join('\n'),
    );
    images.hardlink = await buildClassic(
      d,
      'hardlink:latest',
      `FROM base:latest\nRUN ${fill('/h1.bin', G.hardlinkBytes, 'h')} && ln /h1.bin /h2.bin\n`,
    );
    images.buildkit = await buildKit(
      d,
      'buildkit:latest',
      `FROM base:latest\nRUN ${fill('/bk.bin', G.buildkitBytes, 'bk')}\nCOPY hello.txt /hello.txt\n`,
      { 'hello.txt': G.buildkitHello },
    );

    // Containers: created never started; copyup appends to an image file; logger logs and
    // writes into a named volume.
    await d.docker(['create', '--network=none', '--name', 'created', 'base:latest', 'true']);
    await d.docker(['run', '--network=none', '--name', 'copyup', 'overwrite:latest', 'sh', '-c', 'echo x >> /two.bin']);
    await d.docker(['volume', 'create', G.volumeName]);
    await d.docker([
      'run', '--network=none', '--name', 'logger', '-v', `${G.volumeName}:/vol`, 'base:latest',
      'sh', '-c', `${fill('/vol/data.bin', G.volumeBytes, 'vol')} && seq 1 ${G.logLines} | sed 's/^/log line /'`,
    ]);
    const containers = {
      created: { name: 'created', id: await cid(d, 'created'), imageId: images.base.id },
      copyUp: { name: 'copyup', id: await cid(d, 'copyup'), imageId: images.overwrite.id },
      logger: { name: 'logger', id: await cid(d, 'logger'), imageId: images.base.id },
    };
    await settle(path.join(root, 'containers', containers.logger.id, `${containers.logger.id}-json.log`));

    // A leaked layer directory, made by hand: nothing refers to it.
    const leakedId = randomBytes(32).toString('hex');
    const leakedFile = path.join('overlay2', leakedId, 'diff', 'leaked.bin');
    await mkdir(path.dirname(path.join(root, leakedFile)), { recursive: true });
    await writeFile(path.join(root, leakedFile), pattern(G.leakedBytes, 'leaked'));

    const [df, cws] = [await systemDf(d), await containersWithSize(d)];
    const dockerVersion = (await d.docker(['version', '--format', '{{.Server.Version}}'])).trim();

    await stopKeepingContainers(d);
    stopped = true;

    const layerdb = Object.fromEntries(
      [...(await readLayerDb(root))].map(([k, v]) => [k, { diffId: v.diffId, cacheId: v.cacheId, size: v.size, parent: v.parent }]),
    );
    const buildKitDirs = (await readdir(path.join(root, 'overlay2'))).filter((n) => n.length === 25).sort();
    if (buildKitDirs.length === 0) throw new Error('BuildKit left no 25-character directory under overlay2/');

    // Everything but the excluded paths, as they are named inside the archive (./name).
    await mkdir(outDir, { recursive: true });
    const tarFile = path.join(outDir, 'root.tar.gz');
    const excludes = Object.keys(EXCLUDED).map((p) => `--exclude=./${p}`);
    await run('tar', [...TAR_CREATE, ...excludes, '--file', tarFile, '-C', root, '.']);

    const recording: Recording = {
      dockerVersion,
      kernel: (await run('uname', ['-r'])).trim(),
      recordedAt: new Date().toISOString(),
      sizes: G,
      images,
      containers,
      volume: G.volumeName,
      leaked: { id: leakedId, file: leakedFile, bytes: G.leakedBytes },
      buildKitDirs,
      layerdb,
      systemDf: df,
      containersWithSize: cws,
      excluded: EXCLUDED,
    };
    await writeFile(path.join(outDir, 'recording.json'), `${JSON.stringify(recording, null, 2)}\n`);
    const size = (await stat(tarFile)).size;
    process.stdout.write(`${tarFile}: ${size} bytes\n${path.join(outDir, 'recording.json')}\n`);
    if (keep) process.stdout.write(`recorded root kept at ${root}\n`);
  } finally {
    if (!stopped) await d.stop().catch(() => undefined); // a failure: containers go with it
    if (!keep) await rm(work, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`record-root: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
