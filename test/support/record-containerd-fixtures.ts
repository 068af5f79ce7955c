// Records test/fixtures/containerd/: the bbolt files of a small containerd-image-store host (containerd's
// meta.db, the overlayfs snapshotter's metadata.db, BuildKit's metadata_v2.db), taken after both
// daemons stopped, and what ctr, Docker and the disk said about that host (expected.json),
// for unit tests of the containerd store reader. Run by hand, as root, never by the suite:
//
//   npx tsc -p . && node dist/test/support/record-containerd-fixtures.js [--out DIR]
//
// The host: base:latest (docker import of busybox), classic:latest (classic builder, one RUN),
// kit:latest (BuildKit, RUN + COPY), container `writer` (ran, wrote WRITTEN bytes, exited) and
// container `created` (created, never started).
import { copyFile, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { run } from './commands.js';
import { startContainerdStore, stopKeepingFiles, type ContainerdStoreDaemon } from './containerd-store.js';
import { makeBaseImage } from './dockerd.js';
import { buildClassic, buildKit, inspectImage, type FixtureImage } from './fixture-host.js';

const WRITTEN = 100_000;
const OUT_DEFAULT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../test/fixtures/containerd');


async function duB1(dir: string): Promise<number> {
  return Number((await run('du', ['-sB1', dir])).split('\t')[0]);
}

async function entries(dir: string): Promise<number> {
  return (await run('find', [dir])).split('\n').filter(Boolean).length;
}

function lines(text: string): string[][] {
  return text
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length > 1);
}

async function record(d: ContainerdStoreDaemon, out: string): Promise<void> {
  await makeBaseImage(d, 'base:latest');
  const images: FixtureImage[] = [await inspectImage(d, 'base:latest')];
  images.push(await buildClassic(d, 'classic:latest', 'FROM base:latest\nRUN head -c 1048576 /dev/urandom > /one.bin\n'));
  images.push(
    await buildKit(d, 'kit:latest', 'FROM base:latest\nRUN head -c 65536 /dev/urandom > /kit.bin\nCOPY hello.txt /hello.txt\n', {
      'hello.txt': 'hello from buildkit\n',
    }),
  );
  await d.docker(['run', '--network=none', '--name', 'writer', 'base:latest', 'sh', '-c', `head -c ${WRITTEN} /dev/urandom > /w.bin`]);
  await d.docker(['create', '--network=none', '--name', 'created', 'base:latest', 'true']);
  const containers: Array<{ name: string; id: string; upperdir: string; snapshotId: string }> = [];
  for (const name of ['writer', 'created']) {
    const id = (await d.docker(['inspect', '--format', '{{.Id}}', name])).trim();
    const mounts = await d.ctr(['snapshots', 'mounts', '/mnt', id]);
    const upperdir = /upperdir=([^,\s]+)/.exec(mounts)?.[1] ?? '';
    containers.push({ name, id, upperdir, snapshotId: path.basename(path.dirname(upperdir)) });
  }

  // What the live daemons say.
  const ctrImages = lines(await d.ctr(['images', 'ls'])).map((f) => ({ ref: f[0], mediaType: f[1], digest: f[2] }));
  const ctrSnapshots = lines(await d.ctr(['snapshots', 'ls'])).map((f) =>
    f.length >= 3 ? { key: f[0], parent: f[1], kind: f[2] } : { key: f[0], parent: null, kind: f[1] },
  );
  const ctrContent = (await d.ctr(['content', 'ls', '-q'])).split('\n').filter(Boolean);
  const ctrLeases = lines(await d.ctr(['leases', 'ls'])).map((f) => ({ id: f[0], labels: f[2] === '-' ? {} : Object.fromEntries((f[2] ?? '').split(',').map((kv) => kv.split('='))) }));
  const ctrNamespaces = (await d.ctr(['namespaces', 'ls', '-q'], { namespace: null })).split('\n').filter(Boolean);
  const info = await d.api<{ Driver: string; DriverStatus: string[][]; ServerVersion: string }>('/info');
  const imagesJson = await d.api<Array<{ Id: string; RepoTags: string[]; Size: number }>>('/images/json?all=1');
  const systemDf = await d.api<unknown>('/system/df');
  const systemDfV = await d.docker(['system', 'df', '-v']);
  const manifests: Record<string, unknown> = {};
  for (const img of images) manifests[img.id] = JSON.parse(await d.ctr(['content', 'get', img.id]));

  // Stop both daemons (dockerd first), keeping their files, then read the disk.
  await stopKeepingFiles(d);
  const snapDir = path.join(d.containerd.root, 'io.containerd.snapshotter.v1.overlayfs', 'snapshots');
  const dirs: Record<string, { du: number; entries: number }> = {};
  for (const id of (await readdir(snapDir)).sort((a, b) => Number(a) - Number(b))) {
    const fs = path.join(snapDir, id, 'fs');
    dirs[id] = { du: await duB1(fs), entries: await entries(fs) };
  }
  const blobDir = path.join(d.containerd.root, 'io.containerd.content.v1.content', 'blobs', 'sha256');
  const blobs: Record<string, { size: number; disk: number }> = {};
  for (const hex of (await readdir(blobDir)).sort()) {
    const st = await stat(path.join(blobDir, hex));
    blobs[`sha256:${hex}`] = { size: st.size, disk: st.blocks * 512 };
  }
  await mkdir(out, { recursive: true });
  await copyFile(path.join(d.containerd.root, 'io.containerd.metadata.v1.bolt', 'meta.db'), path.join(out, 'meta.db'));
  await copyFile(path.join(d.containerd.root, 'io.containerd.snapshotter.v1.overlayfs', 'metadata.db'), path.join(out, 'metadata.db'));
  // BuildKit's own cache records on this store (its containerd worker: no snapshots.db or content/ of its own)
  await copyFile(path.join(d.root, 'buildkit', 'containerd-overlayfs', 'metadata_v2.db'), path.join(out, 'buildkit-metadata_v2.db'));

  const strip = (p: string): string => p.replace(d.base, '<base>');
  const expected = {
    made: 'node dist/test/support/record-containerd-fixtures.js (see its header)',
    versions: d.bins.versions,
    paths: { base: '<base>', dockerRoot: strip(d.root), containerdRoot: strip(d.containerd.root) },
    images: images.map((img) => ({ ...img, manifest: manifests[img.id] })),
    containers: containers.map((c) => ({ ...c, upperdir: strip(c.upperdir) })),
    writtenBytes: WRITTEN,
    ctr: { namespaces: ctrNamespaces, images: ctrImages, snapshots: ctrSnapshots, content: ctrContent, leases: ctrLeases },
    docker: {
      info: { Driver: info.Driver, DriverStatus: info.DriverStatus, ServerVersion: info.ServerVersion },
      imagesJson: imagesJson.map((i) => ({ Id: i.Id, RepoTags: i.RepoTags, Size: i.Size })),
      systemDf,
      systemDfV: systemDfV.split('\n'),
    },
    disk: { snapshotDirs: dirs, blobs },
  };
  await writeFile(path.join(out, 'expected.json'), `${JSON.stringify(expected, null, 2)}\n`);
  for (const f of ['meta.db', 'metadata.db', 'buildkit-metadata_v2.db', 'expected.json']) {
    process.stdout.write(`${path.join(out, f)}: ${(await stat(path.join(out, f))).size} bytes\n`);
  }
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--out');
  const out = i > 0 && process.argv[i + 1] ? path.resolve(process.argv[i + 1]!) : OUT_DEFAULT;
  const d = await startContainerdStore();
  try {
    await record(d, out);
  } finally {
    await d.stop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});
