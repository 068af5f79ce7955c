// The reclaim planner's e2e host (test/e2e/reclaim.test.ts): one private daemon holding something
// for every clean-up action, built in rounds (every name carries the round, so a round can be
// added on a host earlier rounds were pruned on), the measurement of what a command freed
// (`du -sB1 -x` of the roots once the daemon is quiet, and a per-path listing to say which files
// went), Docker's own RECLAIMABLE from GET /system/df, and the Docker CLI that matches the daemon.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findExecutable, run } from './commands.js';
import { makeBaseImage, type Daemon } from './dockerd.js';
import { buildClassic, buildKit, container, logFiles, settle, type FixtureContainer, type FixtureImage } from './fixture-builders.js';
import { duB1Excluding, runReport, systemDf } from './oracles.js';

export const KiB = 1024;
export const MiB = 1024 * KiB;
/** Acceptance 1: freed equals the prediction within 64 KiB + 0.5% of it. */
export function tolerance(predicted: number): number {
  return 64 * KiB + Math.ceil(0.005 * Math.abs(predicted));
}

// ---------------------------------------------------------------------------------------------
// The report's reclaim shape (declared here from the contract, not imported from agent/).

export const RUN_ACTIONS = [
  'container-prune', 'image-prune', 'image-prune-all', 'volume-prune', 'volume-prune-all',
  'builder-prune', 'builder-prune-all', 'system-prune', 'system-prune-all',
] as const;
export const NAMED_ACTIONS = ['logs', 'orphans', 'inactive-store'] as const;
export type RunAction = (typeof RUN_ACTIONS)[number];

export interface ReclaimEntry {
  action: string;
  command?: string | null;
  disk: number;
  apparent: number;
  objects?: unknown;
}
export interface ReclaimReport {
  reclaim?: ReclaimEntry[];
  images: Array<{ id: string; tags: string[]; containers: number; rmi?: { disk: number; apparent: number } }>;
  errors: Array<{ source?: string; path?: string; message: string }>;
}

/** The command the contract names for an action on a daemon of this API version. */
export function expectedCommand(action: RunAction, apiVersion: string): string {
  const volumeAll = apiAtLeast(apiVersion, '1.42') ? 'docker volume prune -a -f' : 'docker volume prune -f';
  return {
    'container-prune': 'docker container prune -f',
    'image-prune': 'docker image prune -f',
    'image-prune-all': 'docker image prune -a -f',
    'volume-prune': 'docker volume prune -f',
    'volume-prune-all': volumeAll,
    'builder-prune': 'docker builder prune -f',
    'builder-prune-all': 'docker builder prune -a -f',
    'system-prune': 'docker system prune -f',
    'system-prune-all': 'docker system prune -a --volumes -f',
  }[action];
}

export function apiAtLeast(version: string, min: string): boolean {
  const [a = 0, b = 0] = version.split('.').map(Number);
  const [c = 0, e = 0] = min.split('.').map(Number);
  return a > c || (a === c && b >= e);
}

// ---------------------------------------------------------------------------------------------
// The host.

export interface ReclaimHost {
  d: Daemon;
  /** The roots layerdu scans and the du measures: the docker root, and the containerd root on that store. */
  roots: string[];
  /** layerdu's root flags. */
  args: string[];
  /** The daemon's API version (GET /version). */
  apiVersion: string;
  /** Runs a `docker …` argument list with a CLI that speaks the daemon's API version (see dockerFor). */
  cli(args: string[]): Promise<string>;
  cliPath: string;
}

/**
 * A CLI that speaks the daemon's own API version. The prune commands mean different things by
 * version: on API >= 1.42 `volume prune` spares named volumes, but only when the client asks at
 * that version; the system's /usr/bin/docker 20.10 negotiates 1.41, for which a Docker 26 daemon
 * keeps the old rule (every unused volume), and has no `volume prune -a`. So the daemon's own
 * version gets a client at least as new (the newest found for a daemon past the system client's).
 */
async function dockerFor(d: Daemon, apiVersion: string): Promise<{ cli: (args: string[]) => Promise<string>; cliPath: string }> {
  const candidates = [...new Set(['/usr/bin/docker', findExecutable('docker'), '/usr/local/bin/docker'].filter((p): p is string => p !== null))];
  const found: Array<{ p: string; api: string }> = [];
  for (const p of candidates) {
    const api = (await run(p, ['version', '--format', '{{.Client.APIVersion}}'], { env: cliEnv(d) }).catch(() => '')).trim();
    if (/^\d+\.\d+$/.test(api)) found.push({ p, api });
  }
  const fit = found
    .filter((c) => apiAtLeast(c.api, apiVersion))
    .sort((a, b) => (apiAtLeast(a.api, b.api) ? 1 : -1))[0];
  if (!fit) throw new Error(`no Docker CLI speaks API ${apiVersion} (found ${found.map((c) => `${c.p} ${c.api}`).join(', ') || 'none'})`);
  if (fit.p === '/usr/bin/docker') return { cli: (args) => d.docker(args), cliPath: fit.p };
  return { cli: (args) => run(fit.p, args, { env: cliEnv(d), timeoutMs: 300_000 }), cliPath: fit.p };
}

function cliEnv(d: Daemon): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: d.host, DOCKER_CLI_HINTS: 'false' };
  delete e.DOCKER_CONTEXT;
  delete e.DOCKER_API_VERSION;
  return e;
}

export async function reclaimHost(d: Daemon, containerdRoot: string | null): Promise<ReclaimHost> {
  const { ApiVersion } = await d.api<{ ApiVersion: string }>('/version');
  const { cli, cliPath } = await dockerFor(d, ApiVersion);
  const roots = containerdRoot === null ? [d.root] : [d.root, containerdRoot];
  const args = ['--docker-root', d.root, '--docker-host', d.host, ...(containerdRoot === null ? [] : ['--containerd-root', containerdRoot])];
  return { d, roots, args, apiVersion: ApiVersion, cli, cliPath };
}

/** What one round put on the host. */
export interface Round {
  n: number;
  images: {
    /** base + the shared middle layer + its own: run by `running`. */
    used: FixtureImage;
    /** base + the shared middle layer + its own: no container. */
    unused: FixtureImage;
    /** base + its own layer, no container: `docker rmi`'s case. */
    solo: FixtureImage;
    /** Run by the stopped containers only. */
    stopped: FixtureImage;
    /** The image a rebuild of its tag left without a name. */
    dangling: FixtureImage;
    /** The rebuild. */
    rebuilt: FixtureImage;
    /** BuildKit's multi-stage build: its first stage is build cache no image holds. */
    kit: FixtureImage;
  };
  containers: { running: FixtureContainer; exited: FixtureContainer; created: FixtureContainer };
  volumes: { usedNamed: string; unusedNamed: string };
}

const urandom = (bytes: number, file: string): string => `head -c ${bytes} /dev/urandom > ${file}`;

/**
 * One round of everything an action frees or must spare. The base image is imported when missing;
 * every other name carries the round.
 */
export async function addRound(h: ReclaimHost, n: number): Promise<Round> {
  const { d } = h;
  // (again when an earlier round's prune took it: on the containerd store no parent link keeps it)
  if (!(await d.docker(['image', 'inspect', 'base:latest']).then(() => true, () => false))) await makeBaseImage(d, 'base:latest');
  const r = `r${n}`;
  // The classic builder's cache makes the first RUN one layer of both: shared by a used and an unused image.
  const mid = `FROM base:latest\nRUN echo ${r} > /round && ${urandom(MiB, '/mid.bin')}\n`;
  const used = await buildClassic(d, `used-${r}:latest`, `${mid}RUN echo used > /used.txt\n`);
  const unused = await buildClassic(d, `unused-${r}:latest`, `${mid}RUN ${urandom(512 * KiB, '/unused.bin')}\n`);
  assert.equal(used.chainIds[1], unused.chainIds[1], 'the two images share their middle layer');
  // Every RUN names the round: the classic builder's cache would otherwise hand a later round the
  // same image under a second tag.
  const own = (bytes: number, file: string): string => `FROM base:latest\nRUN echo ${r} > /round && ${urandom(bytes, file)}\n`;
  const [solo, stopped, dangling] = await Promise.all([
    buildClassic(d, `solo-${r}:latest`, own(800 * KiB, '/solo.bin')),
    buildClassic(d, `stopped-${r}:latest`, own(700 * KiB, '/stopped.bin')),
    buildClassic(d, `dangle-${r}:latest`, own(600 * KiB, '/first.bin')),
  ]);
  const rebuilt = await buildClassic(d, `dangle-${r}:latest`, own(600 * KiB, '/second.bin'));
  assert.notEqual(rebuilt.id, dangling.id);
  const kit = await buildKit(
    d,
    `kit-${r}:latest`,
    [
      'FROM base:latest AS scratchpad',
      `RUN echo ${r} > /round && ${urandom(MiB, '/junk.bin')} && echo small > /small.txt`,
      'FROM base:latest',
      'COPY --from=scratchpad /small.txt /small.txt',
      `RUN echo ${r} > /round && ${urandom(300 * KiB, '/kit.bin')}`,
      '',
    ].join('\n'),
  );

  const usedNamed = `vol-used-${r}`;
  const unusedNamed = `vol-named-${r}`;
  await d.docker(['volume', 'create', unusedNamed]);
  await d.docker(['run', '--rm', '--network=none', '-v', `${unusedNamed}:/v`, 'base:latest', 'sh', '-c', urandom(1536 * KiB, '/v/n.bin')]);

  const lines = (what: string, count: number): string => `seq 1 ${count} | sed 's/^/${what} line /'`;
  // Writable bytes, an anonymous volume that the prune of the container leaves unused, logs with no limit.
  await d.docker([
    'run', '--network=none', '--name', `exited-${r}`, '-v', '/anon', `stopped-${r}:latest`,
    'sh', '-c', `${urandom(300_000, '/w.bin')} && ${urandom(400_000, '/anon/a.bin')} && ${lines('exited', 5000)}`,
  ]);
  const exited = await container(d, `exited-${r}`, stopped);
  await d.docker(['create', '--network=none', '--name', `created-${r}`, `stopped-${r}:latest`, 'true']);
  const created = await container(d, `created-${r}`, stopped);
  // In use: a named and an anonymous volume, writable bytes and logs; never pruned.
  await d.docker([
    'run', '-d', '--network=none', '--name', `running-${r}`, '-v', `${usedNamed}:/v`, '-v', '/anon', `used-${r}:latest`,
    'sh', '-c', `${urandom(200_000, '/v/u.bin')} && ${urandom(100_000, '/anon/u.bin')} && ${urandom(50_000, '/w.bin')} && ${lines('running', 3000)} && exec sleep 3600`,
  ]);
  const running = await container(d, `running-${r}`, used);
  for (const c of [exited, running]) {
    const [log] = await logFiles(d.root, c.id);
    if (log) await settle(log);
  }
  return {
    n,
    images: { used, unused, solo, stopped, dangling, rebuilt, kit },
    containers: { running, exited, created },
    volumes: { usedNamed, unusedNamed },
  };
}

// ---------------------------------------------------------------------------------------------
// Measuring.

/** Files the harness puts in the docker root that a real host keeps elsewhere (the exec root is /run/docker). */
function harnessFiles(h: ReclaimHost): string[] {
  return [path.join(h.d.root, 'dockerd.log'), path.join(h.d.root, 'exec')];
}

/** `du -sB1 -x` of each root (the harness' own files left out), summed. */
export async function duRoots(h: ReclaimHost): Promise<number> {
  let total = 0;
  for (const root of h.roots) total += await duB1Excluding(root, harnessFiles(h));
  return total;
}

/**
 * Waits until the roots stop changing (sync, then two du's half a second apart agree twice in a
 * row: containerd removes snapshots and blobs in its garbage collection, a moment after dockerd
 * returns), and returns that figure.
 */
export async function settledDu(h: ReclaimHost, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = Number.NaN;
  let agreed = 0;
  for (;;) {
    await run('sync', []);
    const now = await duRoots(h);
    agreed = now === last ? agreed + 1 : 0;
    if (agreed >= 2) return now;
    if (Date.now() > deadline) throw new Error(`the roots did not settle within ${timeoutMs} ms (last ${last}, now ${now})`);
    last = now;
    await sleep(500);
  }
}

/** Every entry under the roots (same filesystem) by path: 512-byte blocks and inode. */
export type Listing = Map<string, { blocks: number; inode: string }>;

export async function listRoots(h: ReclaimHost): Promise<Listing> {
  const out: Listing = new Map();
  const skip = harnessFiles(h);
  for (const [i, root] of h.roots.entries()) {
    const text = await run('find', [root, '-xdev', '-printf', '%p\t%b\t%i\n']);
    for (const line of text.split('\n')) {
      const [p, b, ino] = line.split('\t');
      if (!p || b === undefined || skip.some((s) => p === s || p.startsWith(`${s}/`))) continue;
      const rel = path.relative(root, p);
      out.set(`${i === 0 ? 'docker' : 'containerd'}:${rel === '' ? '.' : rel}`, { blocks: Number(b), inode: ino ?? '' });
    }
  }
  return out;
}

export interface PathChange {
  /** The top-most path gone (or new): its parent is on both sides. Changed files are themselves. */
  path: string;
  kind: 'removed' | 'added' | 'changed';
  /** Bytes (st_blocks × 512) freed: positive when removed or shrunk. */
  freed: number;
  entries: number;
}

/** What went between two listings, grouped by the top-most directory that went (or came). */
export function diffListings(before: Listing, after: Listing): PathChange[] {
  const groups = new Map<string, PathChange>();
  const seenInodes = new Set<string>();
  const topmost = (p: string, present: Listing): string => {
    let top = p;
    for (let parent = parentOf(p); parent !== null && !present.has(parent); parent = parentOf(parent)) top = parent;
    return top;
  };
  const add = (key: string, kind: PathChange['kind'], freed: number): void => {
    const g = groups.get(key) ?? { path: key, kind, freed: 0, entries: 0 };
    g.freed += freed;
    g.entries += 1;
    groups.set(key, g);
  };
  for (const [p, b] of before) {
    const a = after.get(p);
    if (!a) {
      // a hardlinked inode is freed once (du counts it once)
      const first = !seenInodes.has(`${p.split(':')[0]}:${b.inode}`);
      seenInodes.add(`${p.split(':')[0]}:${b.inode}`);
      add(topmost(p, after), 'removed', first ? b.blocks * 512 : 0);
    } else if (a.blocks !== b.blocks) add(p, 'changed', (b.blocks - a.blocks) * 512);
  }
  for (const [p, a] of after) if (!before.has(p)) add(topmost(p, before), 'added', -a.blocks * 512);
  return [...groups.values()].sort((x, y) => Math.abs(y.freed) - Math.abs(x.freed));
}

function parentOf(p: string): string | null {
  const [store, rel = '.'] = p.split(/:(.*)/s);
  if (rel === '.') return null;
  const dir = path.dirname(rel);
  return `${store}:${dir}`;
}

/** Lines naming what went: the biggest removed groups, then every change and addition. */
export function describeChanges(changes: PathChange[], limit = 14): string[] {
  const removed = changes.filter((c) => c.kind === 'removed');
  const rest = changes.filter((c) => c.kind !== 'removed');
  const fmt = (c: PathChange): string => `${c.kind.padEnd(7)} ${String(c.freed).padStart(9)}  ${c.path}${c.entries > 1 ? ` (${c.entries} entries)` : ''}`;
  const out = removed.slice(0, limit).map(fmt);
  if (removed.length > limit) out.push(`removed ${String(removed.slice(limit).reduce((s, c) => s + c.freed, 0)).padStart(9)}  … ${removed.length - limit} more`);
  out.push(...rest.slice(0, limit).map(fmt));
  if (rest.length > limit) out.push(`        ${String(rest.slice(limit).reduce((s, c) => s + c.freed, 0)).padStart(9)}  … ${rest.length - limit} more changed or added`);
  return out;
}

/**
 * With LDU_RECLAIM_DUMP=DIR, writes what a step saw into DIR/<name>.*: the report, the listing of
 * the roots (`path blocks inode`) and Docker's GET /system/df (with the report), for working out a
 * difference later.
 */
export async function dump(h: ReclaimHost, name: string, what: { report?: unknown; listing?: Listing }): Promise<void> {
  const dir = process.env.LDU_RECLAIM_DUMP;
  if (!dir) return;
  await mkdir(dir, { recursive: true });
  const base = path.join(dir, name);
  if (what.report !== undefined) {
    await writeFile(`${base}.report.json`, JSON.stringify(what.report, null, 1));
    // (before the roots are measured: the first /system/df makes BuildKit write its records' sizes)
    await writeFile(`${base}.system-df.json`, JSON.stringify(await systemDf(h.d), null, 1));
  }
  if (what.listing) await writeFile(`${base}.listing.txt`, [...what.listing].map(([p, b]) => `${p} ${b.blocks} ${b.inode}\n`).join(''));
}

// ---------------------------------------------------------------------------------------------
// layerdu and Docker.

export async function report(h: ReclaimHost): Promise<ReclaimReport> {
  const r = await runReport<ReclaimReport>(['--format', 'json', ...h.args]);
  assert.equal(r.code, 0, `layerdu --report exited ${r.code ?? r.signal}; stderr:\n${r.stderr}`);
  assert.ok(r.json, `stdout is not JSON (${r.jsonError}): ${r.stdout.slice(0, 500)}`);
  return r.json;
}

export function entryOf(rep: ReclaimReport, action: string): ReclaimEntry {
  assert.ok(Array.isArray(rep.reclaim), 'the report has no reclaim[]');
  const e = rep.reclaim.find((x) => x.action === action);
  assert.ok(e, `reclaim[] has no ${action}: ${rep.reclaim.map((x) => x.action).join(', ')}`);
  return e;
}

/** Docker's RECLAIMABLE as its CLI computes it from GET /system/df (apparent bytes). */
export interface DockerReclaimable {
  images: number;
  volumes: number;
  /** What `docker system df` prints, for the record. */
  printed: Record<string, string>;
}

export async function dockerReclaimable(h: ReclaimHost): Promise<DockerReclaimable> {
  const df = await systemDf(h.d);
  // cli/command/formatter/disk_usage.go: LayersSize less what the images in use hold alone
  const usedImages = df.Images.filter((i) => i.Containers !== 0 && i.Size !== -1 && i.SharedSize !== -1);
  const images = df.LayersSize - usedImages.reduce((s, i) => s + i.Size - i.SharedSize, 0);
  // … and every volume no container refers to, named or not
  const volumes = df.Volumes.filter((v) => v.UsageData && v.UsageData.RefCount === 0 && v.UsageData.Size !== -1)
    .reduce((s, v) => s + v.UsageData!.Size, 0);
  const printed: Record<string, string> = {};
  for (const line of (await h.cli(['system', 'df', '--format', '{{json .}}'])).split('\n').filter(Boolean)) {
    const row = JSON.parse(line) as { Type: string; Reclaimable: string };
    printed[row.Type] = row.Reclaimable;
  }
  return { images, volumes, printed };
}

/** The json-file logs of every container whose log has no size limit (`max-size`), as `docker inspect` says. */
export async function unboundedLogs(h: ReclaimHost): Promise<string[]> {
  const ids = (await h.d.docker(['ps', '-aq', '--no-trunc'])).split('\n').filter(Boolean);
  if (ids.length === 0) return [];
  const info = JSON.parse(await h.d.docker(['inspect', ...ids])) as Array<{
    Id: string;
    LogPath: string;
    HostConfig: { LogConfig: { Type: string; Config: Record<string, string> | null } };
  }>;
  const files: string[] = [];
  for (const c of info) {
    const { Type, Config } = c.HostConfig.LogConfig;
    if (Type !== 'json-file' || Config?.['max-size']) continue;
    files.push(...(await logFiles(h.d.root, c.Id)));
  }
  return files;
}

/** Runs the command layerdu named: `docker …`, split on spaces, with the host's CLI. */
export async function runNamedCommand(h: ReclaimHost, command: string): Promise<string> {
  const [docker, ...args] = command.split(' ');
  assert.equal(docker, 'docker', `not a docker command: ${command}`);
  return h.cli(args);
}
