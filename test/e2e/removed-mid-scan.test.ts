// A layer or a container removed while a scan walks it (issue 14): `docker rmi` of an unused
// image and `docker rm` of a stopped container while `layerdu --report` runs, with either walker.
// The scan completes; a removed object is either absent or the paths that vanished under it are
// named; and every object that still exists has the figures a second report, after the removal,
// gives it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { findExecutable, makeBaseImage, startDaemon, type Daemon } from '../support/dockerd.js';
import { buildClassic } from '../support/fixture-builders.js';
import { runReport, CLI, REPO_ROOT } from '../support/oracles.js';
import type { Report } from '../../agent/model/report.js';

/** A RUN that writes `n` small files under `dir` (busybox sh). */
const files = (dir: string, n: number) => `mkdir -p ${dir} && cd ${dir} && i=0; while [ $i -lt ${n} ]; do echo $i > f$i; i=$((i+1)); done`;
const FILES = 12_000;

/** The figures of the objects in `keep` (image tags, container names), as a report gives them. */
function figuresOf(r: Report, keep: { images: string[]; containers: string[] }): unknown {
  const images = r.images.filter((i) => i.tags.some((t) => keep.images.includes(t)));
  const layerIds = new Set(images.flatMap((i) => i.layers));
  return {
    images: images.map((i) => ({ tags: i.tags, disk: i.disk, apparent: i.apparent, wasted: i.wasted })).sort((a, b) => a.tags[0]!.localeCompare(b.tags[0]!)),
    layers: r.layers.filter((l) => layerIds.has(l.chainId)).map((l) => ({ chainId: l.chainId, disk: l.disk, apparent: l.apparent })),
    containers: r.containers.filter((c) => keep.containers.includes(c.name ?? '')).map((c) => ({ name: c.name, writable: c.writable, init: c.init, copiedUp: c.copiedUp })),
  };
}

/** The processes below `pid` (find under stdbuf, the Node walker's processes). */
function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // The command may hold spaces and parentheses: the fields after its closing one.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parentOf.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone
    }
  }
  const out: number[] = [];
  const below = (p: number) => {
    for (const [child, parent] of parentOf) if (parent === p) (out.push(child), below(child));
  };
  below(pid);
  return out;
}

/** Whether `pid` works inside `dir`: its working directory (the Node walker enters each directory) or an open one (find's fts). */
function inside(pid: number, dir: string): boolean {
  try {
    const links = [`/proc/${pid}/cwd`, ...readdirSync(`/proc/${pid}/fd`).map((fd) => `/proc/${pid}/fd/${fd}`)];
    return links.some((l) => {
      try {
        return readlinkSync(l).startsWith(`${dir}/`);
      } catch {
        return false;
      }
    });
  } catch {
    return false; // gone
  }
}

/** The walker process of `pid`'s scan that is inside `dir`, once one is; null when the scan ends first. */
async function walkerInside(pid: number, dir: string, running: () => boolean): Promise<number | null> {
  while (running()) {
    const walker = descendants(pid).find((child) => inside(child, dir));
    if (walker !== undefined) return walker;
    await new Promise((r) => setTimeout(r, 5));
  }
  return null;
}

/** `layerdu --report --format json`, started now; resolves with its run and when it started and ended. */
function startReport(args: string[], env: NodeJS.ProcessEnv): { done: Promise<{ code: number | null; json: Report; stderr: string; ms: number }>; started: number; pid: number; running: () => boolean } {
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, '--report', '--format', 'json', ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let err = '';
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  let running = true;
  const done = new Promise<{ code: number | null; json: Report; stderr: string; ms: number }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      running = false;
      resolve({ code, json: JSON.parse(Buffer.concat(out).toString('utf8')) as Report, stderr: err, ms: performance.now() - started });
    });
  });
  return { done, started, pid: child.pid!, running: () => running };
}

describe('a layer and a container removed while the scan walks them', function () {
  this.timeout(900_000);
  let d: Daemon | null = null;
  const victims: Record<'find' | 'node', { image: string; imageId: string; container: string; containerId: string; cacheIds: string[] }> = {} as never;

  before(async function () {
    if (process.getuid?.() !== 0 || !findExecutable('busybox')) this.skip();
    d = await startDaemon();
    await makeBaseImage(d, 'base:latest');
    await buildClassic(d, 'keep:latest', `FROM base:latest\nRUN ${files('/k', FILES)}\n`);
    await d.docker(['run', '--name', 'stays', 'keep:latest', 'sh', '-c', files('/s', 2000)]);
    for (const walker of ['find', 'node'] as const) {
      // Unused images of their own (a layer no other image holds), and stopped containers with big writable layers.
      // Each its own RUN: the same one twice would come from the build cache, one image with two tags.
      const img = await buildClassic(d, `victim-${walker}:latest`, `FROM base:latest\nRUN echo ${walker} > /walker && ${files('/v', FILES)}\n`);
      const container = `gone-${walker}`;
      await d.docker(['run', '--name', container, 'keep:latest', 'sh', '-c', files('/g', FILES / 2)]);
      const containerId = (await d.docker(['inspect', '--format', '{{.Id}}', container])).trim();
      victims[walker] = { image: `victim-${walker}:latest`, imageId: img.id, container, containerId, cacheIds: [] };
    }
  });

  after(async () => {
    await d?.stop();
  });

  for (const walker of ['find', 'node'] as const) {
    it(`${walker} walker: rmi and rm mid-scan; the scan completes, the removed are absent or their vanished paths named, the rest right`, async function () {
      const v = victims[walker];
      const env = walker === 'node' ? { LAYERDU_WALKER: 'node' } : {};
      const args = ['--docker-root', d!.root, '--docker-host', d!.host];
      const before = await runReport<Report>(['--format', 'json', ...args], { env });
      assert.equal(before.code, 0, before.stderr);
      const victimImage = before.json!.images.find((i) => i.tags.includes(v.image))!;
      const victimLayer = before.json!.layers.find((l) => l.chainId === victimImage.layers.at(-1))!;
      const victimContainer = before.json!.containers.find((c) => c.name === v.container)!;
      assert.ok(victimLayer && victimContainer);
      // The removal starts once a walker is inside the layers, and that walker is held (SIGSTOP)
      // while it begins: on a busy machine a scan's length varies too much to aim at its middle.
      const run = startReport(args, env);
      const walking = await walkerInside(run.pid, `${d!.root}/overlay2`, run.running);
      assert.ok(walking !== null, 'a walker entered the layers');
      process.kill(walking, 'SIGSTOP');
      const removing = performance.now();
      const removal = Promise.all([d!.docker(['rmi', v.image]), d!.docker(['rm', v.container])]);
      await new Promise((r) => setTimeout(r, 300));
      process.kill(walking, 'SIGCONT');
      await removal;
      const removed = performance.now();
      const r = await run.done;
      // docker rmi and rm delete file by file (seconds on a slow disk): the scan meets them at work.
      const during = r.ms > removing - run.started;
      process.stdout.write(`      ${walker}: scan ${Math.round(r.ms)} ms; removal from ${Math.round(removing - run.started)} ms to ${Math.round(removed - run.started)} ms after its start (${r.ms > removed - run.started ? 'done before the scan ended' : 'still deleting when the scan ended'})\n`);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(during, 'the removal began while the scan ran');

      const vanished = r.json.errors.filter((e) => /vanished during the walk/.test(e.message));
      const inImage = r.json.images.some((i) => i.tags.includes(v.image) || i.id === v.imageId);
      const inContainers = r.json.containers.some((c) => c.name === v.container);
      const named = (part: string) => r.json.errors.some((e) => (e.path ?? '').includes(part));
      process.stdout.write(`      ${walker}: image ${inImage ? 'listed' : 'absent'}, container ${inContainers ? 'listed' : 'absent'}; ${vanished.length} vanished paths named; errors: ${JSON.stringify(r.json.errors.map((e) => `${e.source}: ${(e.path ?? '').slice(-60)}: ${e.message}`).slice(0, 6))}\n`);
      // Listed, the removed object's figures are what was there, or what vanished under it is named.
      if (inImage) {
        const layer = r.json.layers.find((l) => l.chainId === victimLayer.chainId);
        assert.ok(!layer || (layer.disk === victimLayer.disk && layer.apparent === victimLayer.apparent) || named(victimLayer.cacheId ?? victimLayer.chainId), 'the victim image: whole, or its vanished paths named');
      }
      if (inContainers) {
        const c = r.json.containers.find((x) => x.name === v.container)!;
        assert.ok(JSON.stringify(c.writable) === JSON.stringify(victimContainer.writable) || named(v.containerId) || vanished.length > 0, 'the victim container: whole, or its vanished paths named');
      }
      // Every other error is churn: nothing else went wrong.
      for (const e of r.json.errors) assert.ok(/vanished during the walk|missing/.test(e.message) || e.source === 'docker-api', JSON.stringify(e));

      const after = await runReport<Report>(['--format', 'json', ...args], { env });
      assert.equal(after.code, 0, after.stderr);
      assert.ok(!after.json!.images.some((i) => i.tags.includes(v.image)), 'the image is gone');
      assert.ok(!after.json!.containers.some((c) => c.name === v.container), 'the container is gone');
      assert.deepEqual(after.json!.errors, []);
      // What still exists has the same figures in the scan the removal crossed and in the one after.
      const keep = { images: ['keep:latest', 'base:latest', ...(walker === 'find' ? ['victim-node:latest'] : [])], containers: ['stays', ...(walker === 'find' ? ['gone-node'] : [])] };
      assert.deepEqual(figuresOf(r.json, keep), figuresOf(after.json!, keep));
      const totalDrop = before.json!.totals.disk.total - after.json!.totals.disk.total;
      process.stdout.write(`      ${walker}: totals.disk.total ${before.json!.totals.disk.total} before, ${r.json.totals.disk.total} in the crossed scan, ${after.json!.totals.disk.total} after (${totalDrop} B freed)\n`);
    });
  }
});
