// The pieces the acceptance fixture (fixture-host.ts) and the recorded root (record-root.ts) are
// built from: image builds on a private daemon, what Docker wrote for them (layerdb, chain ids,
// container mounts and logs), and waiting for the json-file logger to finish writing.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { listDir, readText, type Daemon } from './dockerd.js';

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

/** A container by name, as the fixture records it: its id, and the id of the image it runs. */
export async function container(d: Daemon, name: string, image: FixtureImage): Promise<FixtureContainer> {
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
export async function settleRotation(dir: string, id: string): Promise<void> {
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
