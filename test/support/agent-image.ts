// The layerdu container image, made on this machine without a registry: a root filesystem holding
// this Node runtime, GNU find and stdbuf (so the find walker runs inside), their shared libraries,
// the built agent and its production node_modules, then `docker import`ed with the agent as its
// entrypoint. What goes where is a pure function of the file lists (rootfsPlan); reading the host
// (ldd, npm ls, the trees) and writing the tar are the I/O around it.
import { copyFile, chmod, lstat, mkdir, mkdtemp, readdir, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { findExecutable, run } from './commands.js';
import type { Daemon } from './dockerd.js';
import { REPO_ROOT } from './oracles.js';

/** Where the agent lives in the image. */
export const IMAGE_APP = '/layerdu';
export const IMAGE_NODE = '/usr/local/bin/node';
export const IMAGE_PATH = '/usr/local/bin:/usr/bin:/bin';
export const AGENT_ENTRYPOINT = [IMAGE_NODE, `${IMAGE_APP}/dist/bin/layerdu.js`];
/**
 * What of the built tree the agent needs, relative to the repository root (not dist/test): the
 * bundle it runs, and the modules it is bundled from, which the image's e2e test loads itself.
 */
export const AGENT_TREES = ['dist/bin', 'dist/agent', 'dist/collectors', 'package.json'];

export const PASSWD = 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n';
export const GROUP = 'root:x:0:\nnobody:x:65534:\n';

/**
 * The libraries `ldd FILE` names, the dynamic loader included, as absolute paths. The vDSO has
 * no file and is left out; a library ldd could not find is an error; a static binary has none.
 */
export function parseLdd(text: string, file = 'the file'): string[] {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line === 'statically linked' || /not a dynamic executable/.test(line)) continue;
    const arrow = /^(\S+) => (.*?)(?: \(0x[0-9a-f]+\))?$/.exec(line);
    if (arrow) {
      const [, name, where] = arrow;
      if (where === 'not found') throw new Error(`ldd ${file}: ${name} not found`);
      // `linux-vdso.so.1 =>  (0x…)` on old glibc: nothing on disk
      if (where && where.startsWith('/')) out.push(where);
      continue;
    }
    const bare = /^(\/\S+) \(0x[0-9a-f]+\)$/.exec(line);
    if (bare) out.push(bare[1]!);
    // `linux-vdso.so.1 (0x…)`: the kernel's, no file
  }
  return out;
}

/** The libstdbuf.so stdbuf preloads, from `stdbuf -o 64K printenv LD_PRELOAD` (stdbuf appends it). */
export function parseStdbufPreload(text: string): string {
  const lib = text.trim().split(/[:\s]+/).filter((p) => p.endsWith('/libstdbuf.so')).pop();
  if (!lib) throw new Error(`stdbuf set no LD_PRELOAD holding libstdbuf.so: ${JSON.stringify(text)}`);
  return lib;
}

/**
 * The package directories of `npm ls --omit=dev --all --parseable`, relative to the repository
 * root: every line but the first (the project itself), each under `<root>/node_modules/`.
 */
export function parseNpmParseable(text: string, root: string): string[] {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  const out = new Set<string>();
  for (const line of lines) {
    if (path.resolve(line) === path.resolve(root)) continue;
    const rel = path.relative(root, line);
    if (!rel.startsWith('node_modules/') || rel.split('/').includes('..')) throw new Error(`npm ls: ${line} is not under ${root}/node_modules`);
    out.add(rel);
  }
  return [...out].sort();
}

/** One entry of a tree on the host, relative to the tree's base directory. */
export interface TreeEntry {
  rel: string;
  kind: 'file' | 'dir' | 'symlink';
  /** A symlink's target, as readlink gives it. */
  target?: string;
}

/** One entry of the image's root filesystem, by absolute path in the image. */
export type RootfsEntry =
  | { path: string; kind: 'dir'; mode: number }
  | { path: string; kind: 'file'; source: string }
  | { path: string; kind: 'text'; content: string; mode: number }
  | { path: string; kind: 'symlink'; target: string };

export interface ImageSources {
  /** The host's node binary (process.execPath); it goes to IMAGE_NODE. */
  node: string;
  /** Programs kept at their own path (GNU find, stdbuf). */
  programs: string[];
  /** Every library the binaries need (ldd's list, the loader, libstdbuf.so), kept at their own path. */
  libraries: string[];
  /** The host's repository root, and what of it goes under IMAGE_APP (AGENT_TREES and the packages), as listed. */
  repoRoot: string;
  app: TreeEntry[];
}

/**
 * The root filesystem as a list: every parent directory once, before what it holds, then sorted
 * by path. Host files are copied whole (symlinks on the way to them followed), so /lib64's loader
 * link and /lib → usr/lib make no difference inside.
 */
export function rootfsPlan(src: ImageSources): RootfsEntry[] {
  const byPath = new Map<string, RootfsEntry>();
  const add = (e: RootfsEntry) => {
    const known = byPath.get(e.path);
    if (known && JSON.stringify(known) !== JSON.stringify(e)) throw new Error(`rootfs: ${e.path} given twice, differently`);
    byPath.set(e.path, e);
  };
  add({ path: IMAGE_NODE, kind: 'file', source: src.node });
  for (const p of [...src.programs, ...src.libraries]) add({ path: path.posix.resolve(p), kind: 'file', source: p });
  for (const e of src.app) {
    const at = path.posix.join(IMAGE_APP, e.rel);
    if (e.kind === 'dir') add({ path: at, kind: 'dir', mode: 0o755 });
    else if (e.kind === 'symlink') add({ path: at, kind: 'symlink', target: e.target! });
    else add({ path: at, kind: 'file', source: path.join(src.repoRoot, e.rel) });
  }
  add({ path: '/etc/passwd', kind: 'text', content: PASSWD, mode: 0o644 });
  add({ path: '/etc/group', kind: 'text', content: GROUP, mode: 0o644 });
  add({ path: '/tmp', kind: 'dir', mode: 0o1777 });
  for (const p of [...byPath.keys()]) {
    for (let dir = path.posix.dirname(p); dir !== '/'; dir = path.posix.dirname(dir)) {
      if (!byPath.has(dir)) byPath.set(dir, { path: dir, kind: 'dir', mode: 0o755 });
      else if (byPath.get(dir)!.kind !== 'dir') throw new Error(`rootfs: ${dir} is a directory of ${p} and not a directory`);
    }
  }
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * The relative paths to copy under the app directory: the agent's trees and each production
 * package, each package without its own node_modules (the packages nested there are listed
 * themselves, and nothing else in them is production's).
 */
export function appRoots(packages: string[]): { roots: string[]; skip: Set<string> } {
  return { roots: [...AGENT_TREES, ...packages], skip: new Set(packages.map((p) => `${p}/node_modules`)) };
}

// ---- reading the host ----

/** `ldd FILE` as paths; [] for a static binary. */
export async function readLdd(file: string): Promise<string[]> {
  try {
    return parseLdd(await run('ldd', [file], { env: { ...process.env, LC_ALL: 'C' } }), file);
  } catch (e) {
    const err = e as Error & { stderr?: string; stdout?: string };
    if (/not a dynamic executable/.test(`${err.stdout ?? ''}${err.stderr ?? ''}`)) return [];
    throw e;
  }
}

export async function readStdbufLib(stdbuf: string): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C' };
  delete env.LD_PRELOAD;
  return parseStdbufPreload(await run(stdbuf, ['-o', '64K', 'printenv', 'LD_PRELOAD'], { env }));
}

export async function readProductionPackages(root: string): Promise<string[]> {
  return parseNpmParseable(await run('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: root }), root);
}

/** The entries under `base` of each root (a file or a directory), bar the skipped subtrees. */
export async function readTrees(base: string, roots: string[], skip: Set<string>): Promise<TreeEntry[]> {
  const out: TreeEntry[] = [];
  const visit = async (rel: string): Promise<void> => {
    if (skip.has(rel)) return;
    const abs = path.join(base, rel);
    const st = await lstat(abs);
    if (st.isSymbolicLink()) out.push({ rel, kind: 'symlink', target: await readlink(abs) });
    else if (st.isDirectory()) {
      out.push({ rel, kind: 'dir' });
      for (const name of (await readdir(abs)).sort()) await visit(path.posix.join(rel, name));
    } else if (st.isFile()) out.push({ rel, kind: 'file' });
    else throw new Error(`${abs}: neither file, directory nor symlink`);
  };
  for (const r of roots) await visit(r);
  return out;
}

/** Everything the image needs from this machine. */
export async function readImageSources(repoRoot = REPO_ROOT): Promise<ImageSources> {
  const programs = ['find', 'stdbuf'].map((name) => {
    const p = findExecutable(name);
    if (!p) throw new Error(`${name} not found (GNU findutils, coreutils)`);
    return p;
  });
  const libstdbuf = await readStdbufLib(programs[1]!);
  const { roots, skip } = appRoots(await readProductionPackages(repoRoot));
  const app = await readTrees(repoRoot, roots, skip);
  const addons = app.filter((e) => e.kind === 'file' && e.rel.endsWith('.node')).map((e) => path.join(repoRoot, e.rel));
  const libraries = new Set<string>([libstdbuf]);
  for (const bin of [process.execPath, ...programs, libstdbuf, ...addons]) for (const lib of await readLdd(bin)) libraries.add(lib);
  return { node: process.execPath, programs, libraries: [...libraries].sort(), repoRoot, app };
}

// ---- writing the image ----

/** Writes the plan out under `dir` (an empty directory), modes as the host files have them. */
export async function writeRootfs(plan: RootfsEntry[], dir: string): Promise<void> {
  for (const e of plan) {
    const at = path.join(dir, e.path);
    if (e.kind === 'dir') {
      await mkdir(at, { recursive: true });
      await chmod(at, e.mode);
    } else if (e.kind === 'symlink') await symlink(e.target, at);
    else if (e.kind === 'text') {
      await writeFile(at, e.content);
      await chmod(at, e.mode);
    } else {
      await copyFile(e.source, at);
      await chmod(at, (await stat(e.source)).mode & 0o7777);
    }
  }
}

/** Builds the root filesystem tar and imports it as `tag` into `d`; returns the image id. */
export async function importAgentImage(d: Daemon, tag = 'layerdu:test'): Promise<string> {
  const plan = rootfsPlan(await readImageSources());
  const work = await mkdtemp(path.join(tmpdir(), 'ldu-image-'));
  try {
    const rootfs = path.join(work, 'rootfs');
    await mkdir(rootfs);
    await writeRootfs(plan, rootfs);
    const tar = path.join(work, 'rootfs.tar');
    await run('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', rootfs, '-cf', tar, '.']);
    await d.docker([
      'import',
      '--change', `ENTRYPOINT ${JSON.stringify(AGENT_ENTRYPOINT)}`,
      '--change', `ENV PATH=${IMAGE_PATH}`,
      tar, tag,
    ]);
    return (await d.docker(['image', 'inspect', '--format', '{{.Id}}', tag])).trim();
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
