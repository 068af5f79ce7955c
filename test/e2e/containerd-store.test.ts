// Smoke test of the containerd-image-store harness: Debian 13's dockerd 26.1 on a private
// containerd 1.7, an imported base image, one classic and one BuildKit build, a container that
// wrote a file; checked with ctr (images, snapshots, content) and `docker system df -v`.
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import { startContainerdStore, type ContainerdStoreDaemon } from '../support/containerd-store.js';
import { run } from '../support/commands.js';
import { findExecutable, makeBaseImage } from '../support/dockerd.js';
import { buildClassic, buildKit, inspectImage, type FixtureImage } from '../support/fixture-host.js';

const WRITTEN = 100_000;

interface Snapshot {
  key: string;
  parent: string | null;
  kind: string;
}

/** `ctr snapshots ls`: KEY PARENT KIND (PARENT empty for a bottom layer). */
function parseSnapshots(text: string): Map<string, Snapshot> {
  const out = new Map<string, Snapshot>();
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/).filter(Boolean);
    if (f.length === 3) out.set(f[0]!, { key: f[0]!, parent: f[1]!, kind: f[2]! });
    else if (f.length === 2) out.set(f[0]!, { key: f[0]!, parent: null, kind: f[1]! });
  }
  return out;
}

/** Keys from `top` down its parent chain. */
function chainOf(snaps: Map<string, Snapshot>, top: string): string[] {
  const out: string[] = [];
  for (let k: string | null = top; k !== null; k = snaps.get(k)?.parent ?? null) {
    assert.ok(snaps.has(k), `snapshot ${k} (on the chain of ${top}) is not in ctr snapshots ls`);
    out.push(k);
  }
  return out;
}

describe('containerd image store: private dockerd 26.1 on containerd 1.7 (smoke)', function () {
  this.timeout(600_000);
  let d: ContainerdStoreDaemon | null = null;
  let base: FixtureImage;
  let classic: FixtureImage;
  let kit: FixtureImage;
  let writerId = '';

  before(async function () {
    if (process.getuid?.() !== 0 || !findExecutable('busybox')) this.skip();
    d = await startContainerdStore();
    const t = d.timings;
    console.log(
      `      download ${t.downloadSeconds === null ? 'cached' : `${t.downloadSeconds} s`}, containerd up in ${t.containerdSeconds} s, dockerd in ${t.dockerdSeconds} s`,
    );
    await makeBaseImage(d, 'base:latest');
    base = await inspectImage(d, 'base:latest');
    classic = await buildClassic(d, 'classic:latest', 'FROM base:latest\nRUN head -c 1048576 /dev/urandom > /one.bin\n');
    kit = await buildKit(d, 'kit:latest', 'FROM base:latest\nRUN head -c 65536 /dev/urandom > /kit.bin\n');
    await d.docker(['run', '--network=none', '--name', 'writer', 'base:latest', 'sh', '-c', `head -c ${WRITTEN} /dev/urandom > /w.bin`]);
    writerId = (await d.docker(['inspect', '--format', '{{.Id}}', 'writer'])).trim();
  });

  after(async function () {
    await d?.stop();
  });

  it('is dockerd on the containerd snapshotter, running Debian 12 runc', async function () {
    const info = await d!.api<{ Driver: string; DriverStatus: string[][]; ServerVersion: string; RuncCommit: { ID: string } }>('/info');
    assert.equal(info.Driver, 'overlayfs');
    assert.deepEqual(info.DriverStatus, [['driver-type', 'io.containerd.snapshotter.v1']]);
    assert.match(info.ServerVersion, /^26\.1\./);
    assert.match(info.RuncCommit.ID, /deb12/);
    assert.equal(base.diffIds.length, 1);
    assert.equal(classic.diffIds.length, 2);
    assert.equal(kit.diffIds.length, 2);
  });

  it('ctr images ls names each image by the manifest digest Docker uses as its id', async function () {
    const refs = new Map<string, string>();
    for (const line of (await d!.ctr(['images', 'ls'])).split('\n').slice(1)) {
      const [ref, , digest] = line.trim().split(/\s+/);
      if (ref && digest) refs.set(ref, digest);
    }
    assert.equal(refs.get('docker.io/library/base:latest'), base.id);
    assert.equal(refs.get('docker.io/library/classic:latest'), classic.id);
    assert.equal(refs.get('docker.io/library/kit:latest'), kit.id);
  });

  it("an image's layers are the committed snapshots on its top chain id's parent chain", async function () {
    const snaps = parseSnapshots(await d!.ctr(['snapshots', 'ls']));
    for (const img of [base, classic, kit]) {
      const chain = chainOf(snaps, img.chainIds[img.chainIds.length - 1]!);
      const layers = chain.filter((k) => !k.endsWith('-init'));
      assert.deepEqual(layers, [...img.chainIds].reverse(), `${img.tag}: ${chain.join(' <- ')}`);
      for (const k of chain) assert.equal(snaps.get(k)!.kind, 'Committed', `${img.tag}: ${k}`);
    }
    // BuildKit unpacks its result onto a chain of chain ids; the classic builder commits each step
    // onto the -init snapshot of the container it ran: one -init between the two layers.
    assert.equal(chainOf(snaps, kit.chainIds[1]!).length, 2);
    const classicChain = chainOf(snaps, classic.chainIds[1]!);
    assert.equal(classicChain.length, 3);
    assert.match(classicChain[1]!, /^[0-9a-f]{64}-init$/);
  });

  it('the content store holds every manifest, config and layer blob of each image', async function () {
    const digests = new Set((await d!.ctr(['content', 'ls', '-q'])).split('\n').map((s) => s.trim()).filter(Boolean));
    for (const img of [base, classic, kit]) {
      assert.ok(digests.has(img.id), `${img.tag}: manifest ${img.id}`);
      const manifest = JSON.parse(await d!.ctr(['content', 'get', img.id])) as { config: { digest: string }; layers: Array<{ digest: string }> };
      assert.ok(digests.has(manifest.config.digest), `${img.tag}: config ${manifest.config.digest}`);
      assert.equal(manifest.layers.length, img.diffIds.length, img.tag);
      for (const l of manifest.layers) assert.ok(digests.has(l.digest), `${img.tag}: layer ${l.digest}`);
    }
  });

  it("a container's writable layer is the active snapshot keyed by its id, on <id>-init, and SizeRw is du of its fs", async function () {
    const snaps = parseSnapshots(await d!.ctr(['snapshots', 'ls']));
    assert.deepEqual(snaps.get(writerId), { key: writerId, parent: `${writerId}-init`, kind: 'Active' });
    assert.deepEqual(snaps.get(`${writerId}-init`), { key: `${writerId}-init`, parent: base.chainIds[0], kind: 'Committed' });
    const mounts = await d!.ctr(['snapshots', 'mounts', '/mnt', writerId]);
    const upper = /upperdir=([^,\s]+)/.exec(mounts)?.[1];
    assert.ok(upper, mounts);
    assert.equal(path.dirname(path.dirname(upper)), path.join(d!.containerd.root, 'io.containerd.snapshotter.v1.overlayfs', 'snapshots'));
    assert.equal((await stat(path.join(upper, 'w.bin'))).size, WRITTEN);
    const [c] = await d!.api<Array<{ Id: string; SizeRw: number }>>('/containers/json?all=1&size=1');
    assert.equal(c?.Id, writerId);
    const du = Number((await run('du', ['-sB1', upper])).split('\t')[0]);
    assert.equal(c.SizeRw, du);
  });

  it('docker system df -v lists the three images, the container and build cache', async function () {
    const df = await d!.docker(['system', 'df', '-v']);
    const section = (title: string): string[] => {
      const from = df.indexOf(title);
      assert.ok(from >= 0, df);
      const rest = df.slice(from).split('\n\n');
      return (rest[1] ?? '').split('\n').slice(1).filter(Boolean);
    };
    assert.deepEqual(section('Images space usage:').map((l) => l.split(/\s+/)[0]).sort(), ['base', 'classic', 'kit']);
    const containers = section('Containers space usage:');
    assert.equal(containers.length, 1);
    assert.match(containers[0]!, /\swriter$/);
    assert.doesNotMatch(df, /Build cache usage: 0B/);
  });
});
