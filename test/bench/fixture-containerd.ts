// The bench's containerd-store fixture: the overlay2 fixture's recipe (fixture.ts: the base image,
// the same two gen.sh layers from the classic builder, the same copy-up container) built by a
// private dockerd 26.1 on Docker's containerd image store (test/support/containerd-store.ts) in
// <base>/<files>-containerd/, kept between runs:
//   docker/             the docker data root (--docker-root)
//   containerd/root/    the containerd root (--containerd-root); its config, state and socket beside it
//   layerdu-bench-fixture.json   the recipe it was built from: a changed recipe rebuilds
// No daemon runs on it when ensureContainerdFixture returns.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { makeBaseImage, mountsUnder } from '../support/dockerd.js';
import { startContainerdStore } from '../support/containerd-store.js';
import { stopDaemonsOn } from './daemon.js';
import { assertBenchRoot, CONTAINER_NAME, containerCommand, dockerfile, dockerLoud, du, freeBytes, IMAGE_TAG, PRESETS, recipeHash, writeMarker } from './fixture.js';
import { log } from './log.js';

/** Bump when the containerd build changes in a way the overlay2 recipe hash does not show. */
const RECIPE_VERSION = 1;
const MARKER = 'layerdu-bench-fixture.json';
export const META_DB = 'io.containerd.metadata.v1.bolt/meta.db';
export const SNAPSHOTS = 'io.containerd.snapshotter.v1.overlayfs/snapshots';

export interface ContainerdFixtureInfo {
  store: 'containerd';
  recipe: string;
  preset: string;
  perLayer: number;
  copyUp: number;
  builtAt: string;
  buildSeconds: number;
  /** The image's manifest digest and the container's id, as Docker names them. */
  imageId: string;
  containerId: string;
  dockerRoot: string;
  containerdRoot: string;
  /** `du -sB1` and `du --inodes -s` of the containerd root right after the build. */
  containerdBytes: number;
  containerdInodes: number;
}

/** The fixture's directory for a preset, and the two roots in it. */
export function containerdFixtureDirs(base: string, files: string): { dir: string; dockerRoot: string; containerdRoot: string } {
  const dir = path.join(base, `${files}-containerd`);
  return { dir, dockerRoot: path.join(dir, 'docker'), containerdRoot: path.join(dir, 'containerd', 'root') };
}

export function containerdRecipe(name: string): string {
  const p = PRESETS[name]!;
  return createHash('sha256')
    .update(JSON.stringify({ RECIPE_VERSION, store: 'containerd', recipe: recipeHash(name, p) }))
    .digest('hex')
    .slice(0, 16);
}

async function readMarker(dir: string): Promise<ContainerdFixtureInfo | null> {
  try {
    return JSON.parse(await readFile(path.join(dir, MARKER), 'utf8')) as ContainerdFixtureInfo;
  } catch {
    return null;
  }
}

function staleReason(info: ContainerdFixtureInfo | null, recipe: string, dockerRoot: string, containerdRoot: string): string | null {
  if (!info) return 'no fixture built yet';
  if (info.recipe !== recipe) return `recipe changed (${info.recipe} → ${recipe})`;
  if (!existsSync(path.join(containerdRoot, META_DB))) return `${META_DB} is missing`;
  if (!existsSync(path.join(containerdRoot, SNAPSHOTS))) return 'the snapshots are missing';
  if (!existsSync(path.join(dockerRoot, 'containers', info.containerId))) return 'the copy-up container is missing';
  return null;
}

export async function ensureContainerdFixture(base: string, name: string, opts: { rebuild?: boolean } = {}): Promise<ContainerdFixtureInfo> {
  const preset = PRESETS[name];
  if (!preset) throw new Error(`unknown --files ${name}; one of ${Object.keys(PRESETS).join(', ')}`);
  const { dir, dockerRoot, containerdRoot } = containerdFixtureDirs(base, name);
  assertBenchRoot(dir, base);
  const recipe = containerdRecipe(name);
  const info = await readMarker(dir);
  const why = opts.rebuild ? 'rebuild asked for' : staleReason(info, recipe, dockerRoot, containerdRoot);
  if (why === null) {
    log(`containerd fixture ${dir} is up to date (recipe ${recipe}, built ${info!.builtAt} in ${info!.buildSeconds.toFixed(0)} s)`);
    return info!;
  }

  log(`building containerd fixture ${name} in ${dir}: ${why}`);
  await stopDaemonsOn(dir, log);
  const mounted = mountsUnder(dir, true);
  if (mounted.length > 0) throw new Error(`${dir} still has mounts (${mounted.join(', ')}): not removing it`);
  if (existsSync(dir)) {
    log(`removing the old fixture ${dir}`);
    await rm(dir, { recursive: true, force: true });
  }
  await mkdir(dir, { recursive: true });
  // As fixture.ts, plus the compressed copy of each layer this store keeps (small: tiny files).
  const need = 3 * preset.perLayer * 4096 * 1.15 + 1024 * 2 ** 20;
  const free = freeBytes(dir);
  if (free < need) throw new Error(`not enough free disk under ${dir}: ${(free / 2 ** 30).toFixed(1)} GiB free, need ~${(need / 2 ** 30).toFixed(1)} GiB`);

  const start = performance.now();
  const step = (label: string, t: number) => log(`${label} done in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  let t = performance.now();
  const d = await startContainerdStore({ base: dir, startTimeoutMs: 180_000 });
  try {
    if (d.root !== dockerRoot || d.containerd.root !== containerdRoot) throw new Error(`unexpected layout: ${d.root}, ${d.containerd.root}`);
    step('containerd + dockerd start', t);
    t = performance.now();
    await makeBaseImage(d, 'layerdu-bench-base:latest');
    step('base image', t);

    const ctx = path.join(dir, 'tmp', 'build-context');
    await mkdir(ctx, { recursive: true });
    try {
      await writeFile(path.join(ctx, 'Dockerfile'), dockerfile(preset));
      t = performance.now();
      log(`docker build: 2 layers of ${preset.perLayer} files (classic builder, containerd store)`);
      await dockerLoud(d, ['build', '--network', 'none', '--rm', '--force-rm', '-t', IMAGE_TAG, ctx], { DOCKER_BUILDKIT: '0' });
      step('docker build', t);
    } finally {
      await rm(ctx, { recursive: true, force: true });
    }

    t = performance.now();
    log(`docker run: a container appends to ${preset.copyUp} files (copy-up), then exits`);
    await d.docker(['run', '--network', 'none', '--name', CONTAINER_NAME, IMAGE_TAG, 'sh', '-c', containerCommand(preset)]);
    step('copy-up container', t);

    const imageId = (await d.docker(['image', 'inspect', '--format', '{{.Id}}', IMAGE_TAG])).trim();
    const containerId = (await d.docker(['container', 'inspect', '--format', '{{.Id}}', CONTAINER_NAME])).trim();
    // Not d.stop(): that removes every container. dockerd first, then containerd and its shims.
    await stopDaemonsOn(dir, log);

    t = performance.now();
    const [containerdBytes, containerdInodes] = [await du(['-sB1'], containerdRoot), await du(['--inodes', '-s'], containerdRoot)];
    step(`du of the containerd root (${(containerdBytes / 2 ** 30).toFixed(2)} GiB, ${containerdInodes} inodes)`, t);
    const built: ContainerdFixtureInfo = {
      store: 'containerd',
      recipe,
      preset: name,
      perLayer: preset.perLayer,
      copyUp: preset.copyUp,
      builtAt: new Date().toISOString(),
      buildSeconds: (performance.now() - start) / 1000,
      imageId,
      containerId,
      dockerRoot,
      containerdRoot,
      containerdBytes,
      containerdInodes,
    };
    await writeMarker(dir, built);
    log(`containerd fixture built in ${built.buildSeconds.toFixed(0)} s`);
    return built;
  } catch (e) {
    await stopDaemonsOn(dir, log).catch(() => undefined);
    throw e;
  }
}
