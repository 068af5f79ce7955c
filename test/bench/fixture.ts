// The bench fixture: a docker root with two big image layers of small files and a container that
// copied a few thousand of them up, built once on a private daemon in a fixed directory and kept
// between runs. A marker file records the recipe it was built from; a changed recipe rebuilds.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statfsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { DOCKER_CLI, makeBaseImage, mountsUnder, run, type Daemon } from '../support/dockerd.js';
import { REPO_ROOT } from '../support/oracles.js';
import { startBenchDaemon, stopBenchDaemon, stopDaemonsOn } from './daemon.js';
import { log } from './log.js';

export interface Preset {
  /** Files per big image layer. */
  perLayer: number;
  /** Files the container appends to (copy-up). */
  copyUp: number;
}

/** `--files` sizes: the name is the total of both layers. `20k` is a quick smoke size. */
export const PRESETS: Record<string, Preset> = {
  '20k': { perLayer: 10_000, copyUp: 1_000 },
  '300k': { perLayer: 150_000, copyUp: 3_000 },
  '1m': { perLayer: 500_000, copyUp: 3_000 },
};

/** Bump when anything about the build changes that the hashed texts below do not show. */
const RECIPE_VERSION = 1;
const MARKER = 'layerdu-bench-fixture.json';
export const IMAGE_TAG = 'layerdu-bench:latest';
export const CONTAINER_NAME = 'layerdu-bench-copyup';

export interface FixtureInfo {
  recipe: string;
  preset: string;
  perLayer: number;
  copyUp: number;
  builtAt: string;
  buildSeconds: number;
  imageId: string;
  containerId: string;
  /** `du -sB1 <root>/overlay2` and `du --inodes -s <root>/overlay2` right after the build. */
  overlay2Bytes: number;
  overlay2Inodes: number;
}

function genScript(): string {
  return readFileSync(path.join(REPO_ROOT, 'test', 'bench', 'gen.sh'), 'utf8');
}

/** A shell command that writes gen.sh into the container's /tmp and runs it with each argument list. */
function genCommand(runs: string[][]): string {
  const b64 = Buffer.from(genScript()).toString('base64');
  const calls = runs.map((args) => `sh /tmp/gen.sh ${args.join(' ')}`).join(' && ');
  return `echo ${b64} | base64 -d > /tmp/gen.sh && ${calls} && rm /tmp/gen.sh`;
}

export function dockerfile(p: Preset): string {
  const n = String(p.perLayer);
  return [
    'FROM layerdu-bench-base:latest',
    `RUN ${genCommand([['layer', '/data/a', n, 'a']])}`,
    `RUN ${genCommand([['layer', '/data/b', n, 'b'], ['modify', '/data/a', n]])}`,
    '',
  ].join('\n');
}

export function containerCommand(p: Preset): string {
  return `${genCommand([['copyup', '/data/a', '/data/b', String(p.perLayer), String(p.copyUp)]])} && echo copied up`;
}

export function recipeHash(name: string, p: Preset): string {
  return createHash('sha256')
    .update(JSON.stringify({ RECIPE_VERSION, name, p, dockerfile: dockerfile(p), container: containerCommand(p) }))
    .digest('hex')
    .slice(0, 16);
}

/** Written last, atomically: an interrupted build leaves no marker and is redone. */
export async function writeMarker(dir: string, built: object): Promise<void> {
  await writeFile(path.join(dir, `${MARKER}.tmp`), `${JSON.stringify(built, null, 2)}\n`);
  await rename(path.join(dir, `${MARKER}.tmp`), path.join(dir, MARKER));
}

export async function readMarker(root: string): Promise<FixtureInfo | null> {
  try {
    return JSON.parse(await readFile(path.join(root, MARKER), 'utf8')) as FixtureInfo;
  } catch {
    return null;
  }
}

/** Why the fixture on disk cannot be used (null when it can). */
function staleReason(root: string, info: FixtureInfo | null, recipe: string): string | null {
  if (!info) return 'no fixture built yet';
  if (info.recipe !== recipe) return `recipe changed (${info.recipe} → ${recipe})`;
  const hex = info.imageId.replace(/^sha256:/, '');
  if (!existsSync(path.join(root, 'overlay2'))) return 'overlay2/ is missing';
  if (!existsSync(path.join(root, 'image', 'overlay2', 'imagedb', 'content', 'sha256', hex))) return 'the image is missing';
  if (!existsSync(path.join(root, 'containers', info.containerId))) return 'the copy-up container is missing';
  return null;
}

/** Refuses any root that is not a directory of ours (never the host's docker root). */
export function assertBenchRoot(root: string, base: string): void {
  const r = path.resolve(root);
  const b = path.resolve(base);
  if (!r.startsWith(`${b}/`) || r.split('/').length < 3 || r.startsWith('/var/lib/docker')) {
    throw new Error(`refusing to use ${r} as a bench data root (must be under ${b}, not /var/lib/docker)`);
  }
}

export function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

export async function du(args: string[], p: string): Promise<number> {
  const out = await run('du', [...args, p]);
  return Number(out.split(/\s/)[0]);
}

/** Runs the docker client against `d`, its output going to our stderr as progress. */
export function dockerLoud(d: Daemon, args: string[], env: Record<string, string> = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const e: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: d.host, DOCKER_CLI_HINTS: 'false', ...env };
    delete e.DOCKER_CONTEXT;
    const child = spawn(DOCKER_CLI, args, { env: e, stdio: ['ignore', 'pipe', 2] });
    // The RUN lines carry gen.sh in base64: shorten what is echoed.
    let rest = '';
    child.stdout!.on('data', (b: Buffer) => {
      const lines = (rest + b.toString()).split('\n');
      rest = lines.pop()!;
      for (const l of lines) process.stderr.write(`  ${l.length > 120 ? `${l.slice(0, 60)}…${l.slice(-50)}` : l}\n`);
    });
    child.on('error', reject);
    child.on('close', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`docker ${args[0]} failed (${signal ?? `exit ${code}`})`)),
    );
  });
}

/**
 * Makes sure `root` holds the fixture of preset `name`, building it when missing or stale.
 * No daemon runs on `root` when this returns.
 */
export async function ensureFixture(root: string, base: string, name: string, opts: { rebuild?: boolean } = {}): Promise<FixtureInfo> {
  const preset = PRESETS[name];
  if (!preset) throw new Error(`unknown --files ${name}; one of ${Object.keys(PRESETS).join(', ')}`);
  assertBenchRoot(root, base);
  const recipe = recipeHash(name, preset);
  const info = await readMarker(root);
  const why = opts.rebuild ? 'rebuild asked for' : staleReason(root, info, recipe);
  if (why === null) {
    log(`fixture ${root} is up to date (recipe ${recipe}, built ${info!.builtAt} in ${info!.buildSeconds.toFixed(0)} s)`);
    return info!;
  }

  log(`building fixture ${name} in ${root}: ${why}`);
  await stopDaemonsOn(root, log);
  const mounted = mountsUnder(root, true);
  if (mounted.length > 0) throw new Error(`${root} still has mounts (${mounted.join(', ')}): not removing it`);
  if (existsSync(root)) {
    log(`removing the old data root ${root}`);
    await rm(root, { recursive: true, force: true });
  }
  await mkdir(root, { recursive: true });
  // Peak: one finished layer, plus the next one twice (the build container's upper dir and the
  // committed layer) at about one 4 KiB block per file.
  const need = 3 * preset.perLayer * 4096 * 1.15 + 512 * 2 ** 20;
  const free = freeBytes(root);
  if (free < need) {
    throw new Error(`not enough free disk under ${root}: ${(free / 2 ** 30).toFixed(1)} GiB free, need ~${(need / 2 ** 30).toFixed(1)} GiB`);
  }

  const start = performance.now();
  const step = (label: string, t: number) => log(`${label} done in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  let t = performance.now();
  const d = await startBenchDaemon(root);
  try {
    step('dockerd start', t);
    t = performance.now();
    await makeBaseImage(d, 'layerdu-bench-base:latest');
    step('base image', t);

    const ctx = await mkdtemp(path.join(tmpdir(), 'ldu-bench-ctx-'));
    try {
      await writeFile(path.join(ctx, 'Dockerfile'), dockerfile(preset));
      t = performance.now();
      log(`docker build: 2 layers of ${preset.perLayer} files (classic builder)`);
      await dockerLoud(d, ['build', '--network', 'none', '--rm', '--force-rm', '-t', IMAGE_TAG, ctx], { DOCKER_BUILDKIT: '0' });
      step('docker build', t);
    } finally {
      await rm(ctx, { recursive: true, force: true });
    }

    t = performance.now();
    log(`docker run: a container appends to ${preset.copyUp} files (copy-up), then exits`);
    await d.docker(['rm', '-f', CONTAINER_NAME]).catch(() => undefined);
    await d.docker(['run', '--network', 'none', '--name', CONTAINER_NAME, IMAGE_TAG, 'sh', '-c', containerCommand(preset)]);
    step('copy-up container', t);

    const imageId = (await d.docker(['image', 'inspect', '--format', '{{.Id}}', IMAGE_TAG])).trim();
    const containerId = (await d.docker(['container', 'inspect', '--format', '{{.Id}}', CONTAINER_NAME])).trim();
    await stopBenchDaemon(d, log);

    t = performance.now();
    const overlay2 = path.join(root, 'overlay2');
    const [overlay2Bytes, overlay2Inodes] = [await du(['-sB1'], overlay2), await du(['--inodes', '-s'], overlay2)];
    step(`du of the fixture (${(overlay2Bytes / 2 ** 30).toFixed(2)} GiB, ${overlay2Inodes} inodes)`, t);

    const built: FixtureInfo = {
      recipe,
      preset: name,
      perLayer: preset.perLayer,
      copyUp: preset.copyUp,
      builtAt: new Date().toISOString(),
      buildSeconds: (performance.now() - start) / 1000,
      imageId,
      containerId,
      overlay2Bytes,
      overlay2Inodes,
    };
    await writeMarker(root, built);
    log(`fixture built in ${built.buildSeconds.toFixed(0)} s`);
    return built;
  } catch (e) {
    await stopBenchDaemon(d, log).catch(() => undefined);
    throw e;
  }
}
