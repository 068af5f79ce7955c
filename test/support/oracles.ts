// Independent answers to compare layerdu against: du, Docker's API, and the CLI itself as a process.
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Daemon } from './dockerd.js';
import { run } from './dockerd.js';

/** The repository root (this file is compiled to dist/test/support/oracles.js). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** The CLI under test (the npm build's bundle, packaging/bin-bundle.ts); LAYERDU_CLI overrides it (e.g. to check that the tests bite). */
export const CLI = process.env.LAYERDU_CLI
  ? path.resolve(process.env.LAYERDU_CLI)
  : path.join(REPO_ROOT, 'dist', 'bin', 'layerdu.js');

/** `du -sB1 PATH`: disk bytes (st_blocks*512, each inode once), directories included. */
export async function duB1(p: string): Promise<number> {
  const out = await run('du', ['-sB1', p]);
  const n = Number(out.split(/\s/)[0]);
  if (!Number.isInteger(n)) throw new Error(`du -sB1 ${p}: unexpected output ${JSON.stringify(out)}`);
  return n;
}

/** `du -sB1 -l PATH`: like duB1, but a hardlinked inode counts once for each of its names. */
export async function duB1CountingLinks(p: string): Promise<number> {
  const out = await run('du', ['-sB1', '-l', p]);
  const n = Number(out.split(/\s/)[0]);
  if (!Number.isInteger(n)) throw new Error(`du -sB1 -l ${p}: unexpected output ${JSON.stringify(out)}`);
  return n;
}

/** `du -sB1 -x ROOT --exclude=P…`: the disk bytes of ROOT's own filesystem, without the subtrees P (absolute paths). */
export async function duB1Excluding(root: string, excluded: string[]): Promise<number> {
  const out = await run('du', ['-sB1', '-x', ...excluded.map((p) => `--exclude=${p}`), root]);
  const n = Number(out.split(/\s/)[0]);
  if (!Number.isInteger(n)) throw new Error(`du -sB1 -x ${root}: unexpected output ${JSON.stringify(out)}`);
  return n;
}

/** The sum of duB1 of each path on its own (as layerdu walks each layer directory on its own). */
export async function duB1Each(paths: string[]): Promise<number> {
  let total = 0;
  for (const p of paths) total += await duB1(p);
  return total;
}

/** Sum of st_size of the given files (missing ones count 0). */
export async function sumSizes(files: string[]): Promise<number> {
  let total = 0;
  for (const f of files) {
    try {
      total += (await stat(f)).size;
    } catch {
      /* missing */
    }
  }
  return total;
}

export interface DfImage {
  Id: string;
  ParentId: string;
  RepoTags: string[] | null;
  RepoDigests: string[] | null;
  Size: number;
  SharedSize: number;
  VirtualSize?: number;
  Containers: number;
}

export interface DfContainer {
  Id: string;
  Names: string[];
  Image: string;
  ImageID: string;
  State: string;
  SizeRw?: number;
  SizeRootFs?: number;
}

export interface DfVolume {
  Name: string;
  Mountpoint: string;
  UsageData?: { Size: number; RefCount: number } | null;
}

export interface DfBuildCache {
  ID: string;
  Type: string;
  Size: number;
  InUse: boolean;
  Shared: boolean;
}

export interface SystemDf {
  LayersSize: number;
  Images: DfImage[];
  Containers: DfContainer[];
  Volumes: DfVolume[];
  BuildCache: DfBuildCache[] | null;
}

/** GET /system/df */
export function systemDf(d: Daemon): Promise<SystemDf> {
  return d.api<SystemDf>('/system/df');
}

/** GET /containers/json?all=1&size=1 */
export function containersWithSize(d: Daemon): Promise<DfContainer[]> {
  return d.api<DfContainer[]>('/containers/json?all=1&size=1');
}

export interface ReportRun<T = unknown> {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The parsed stdout, when `--format json` was asked for and stdout parsed. */
  json?: T;
  /** Why stdout did not parse, when `--format json` was asked for. */
  jsonError?: string;
}

export interface ReportOptions {
  /** A command (and its arguments) that runs node, e.g. setpriv with a reduced bounding set. */
  wrap?: string[];
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** setpriv prefix under which root honours file mode bits (no CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH). */
export const WITHOUT_DAC = [
  'setpriv',
  '--inh-caps', '-dac_override,-dac_read_search',
  '--bounding-set', '-dac_override,-dac_read_search',
];

/** Runs `node dist/bin/layerdu.js --report ARGS…` from the repository root. Never rejects on exit codes. */
export function runReport<T = unknown>(args: string[], opts: ReportOptions = {}): Promise<ReportRun<T>> {
  const argv = [process.execPath, CLI, '--report', ...args];
  const full = [...(opts.wrap ?? []), ...argv];
  const env: NodeJS.ProcessEnv = { ...process.env, ...(opts.env ?? {}) };
  // Do not let the test runner's own DOCKER_HOST leak into a run that did not ask for it.
  if (!opts.env?.DOCKER_HOST) delete env.DOCKER_HOST;
  return new Promise((resolve, reject) => {
    const child = spawn(full[0]!, full.slice(1), { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 300_000);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result: ReportRun<T> = {
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      };
      if (wantsJson(args)) {
        try {
          result.json = JSON.parse(result.stdout) as T;
        } catch (e) {
          result.jsonError = (e as Error).message;
        }
      }
      resolve(result);
    });
  });
}

function wantsJson(args: string[]): boolean {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--format' && args[i + 1] === 'json') return true;
    if (args[i] === '--format=json') return true;
  }
  return false;
}

/** Non-empty lines of a text. */
export function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}
