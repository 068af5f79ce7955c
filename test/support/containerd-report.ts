// layerdu's JSON report on a containerd-store host, as ../shared/contract.md ("Stores") writes it:
// the shape the containerd acceptance tests read (declared here from the contract, not imported
// from agent/), one API-up report of the fixture shared by the tests of a mocha process, fresh
// reports taken between two measurements, and the canonical form two reports are compared in.
import assert from 'node:assert/strict';
import type { CdFixture } from './containerd-fixture.js';
import { runReport, type ReportRun } from './oracles.js';

/** A Docker host nothing listens on. */
export const NO_API = 'unix:///nonexistent.sock';

export interface Bytes {
  disk: number;
  apparent: number;
}
export interface SharedUnique {
  total: number;
  shared: number;
  unique: number;
}
export interface CdImageReport {
  id: string;
  tags: string[];
  layers: string[];
  disk: SharedUnique;
  apparent: SharedUnique;
  content: Bytes;
  wasted: Bytes;
  containers: number;
}
export interface CdLayerReport {
  chainId: string;
  snapshotId: string;
  namespace: string;
  disk: number;
  apparent: number;
  images: string[];
  containers: string[];
}
export interface CdContentReport {
  digest: string;
  mediaType: string | null;
  disk: number;
  apparent: number;
  images: string[];
}
export interface CdContainerReport {
  id: string;
  name: string;
  imageId: string;
  state: string;
  writable: Bytes;
  init: Bytes;
  copiedUp: Bytes;
  logs: number;
  logsApparent: number;
}
export interface CdOrphanReport {
  id: string;
  kind: string;
  path: string;
  disk: number;
  apparent: number;
}
export interface CdStoreReport {
  store: string;
  driver: string;
  root: string;
  namespace?: string;
  active: boolean;
  disk: number;
}
export interface CdTotals {
  imageLayers: number;
  imageContent: number;
  containerLayers: number;
  volumes: number;
  logs: number;
  buildCache: number;
  orphans: number;
  other: number;
  total: number;
}
export interface CdReport {
  dockerRoot: string;
  apiUp: boolean;
  driver: { name: string; store: string; backingFs: string | null; dType: boolean | null; vfsFallback: boolean; reason: string };
  stores: CdStoreReport[];
  images: CdImageReport[];
  layers: CdLayerReport[];
  content: CdContentReport[];
  containers: CdContainerReport[];
  volumes: Array<{ name: string; disk: number; apparent: number; containers: string[] }>;
  orphans: CdOrphanReport[];
  buildCache: { disk: number; apparent: number; dirs: number };
  totals: { disk: CdTotals; apparent: CdTotals; naiveVirtual: number };
  errors: Array<{ source?: string; path?: string; message: string }>;
}

export type CdRun = ReportRun<CdReport> & { json: CdReport };

/** `layerdu --report --format json` on the two roots; insists on exit 0 and JSON on stdout. */
export async function cdReport(h: { root: string; containerdRoot: string }, dockerHost: string): Promise<CdRun> {
  const args = ['--format', 'json', '--docker-root', h.root, '--containerd-root', h.containerdRoot, '--docker-host', dockerHost];
  const r = await runReport<CdReport>(args, {});
  assert.equal(r.code, 0, `layerdu --report ${args.join(' ')} exited ${r.code ?? r.signal}; stderr:\n${r.stderr}`);
  assert.ok(r.json, `stdout is not JSON (${r.jsonError}): ${r.stdout.slice(0, 500)}`);
  return r as CdRun;
}

let upRun: { fx: CdFixture; run: Promise<CdRun> } | null = null;

/** The API-up report of the fixture, run once per mocha process and shared by the tests. */
export async function cdUpReport(fx: CdFixture): Promise<CdReport> {
  if (upRun?.fx !== fx) upRun = { fx, run: cdReport(fx, fx.host) };
  return (await upRun.run).json;
}

/**
 * `work` (reports) with `measure` taken before and after it, once the two agree: the daemons write
 * into their roots now and then (BuildKit fills in its records' sizes the first time /system/df
 * asks, dockerd's log grows), and then there is no one figure to compare with. Three tries.
 */
export async function between<T, R>(measure: () => Promise<T>, work: () => Promise<R>): Promise<{ result: R; measured: T }> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const before = await measure();
    const result = await work();
    if (JSON.stringify(await measure()) === JSON.stringify(before)) return { result, measured: before };
  }
  throw new Error('the roots kept changing during the report');
}

/** What only the API gives, or what changes between two runs whatever layerdu does. */
export const API_ONLY = [
  'apiUp', 'errors', 'scan',
  'filesystem', // the free space of the filesystem holding the root: the daemon writes on it
  'containers.name', 'containers.state',
  'reclaim.command', // "right for the daemon's version": the version is the API's
];

/** Arrays whose order is meaning, not presentation (an image's chain, bottom first). */
const ORDERED = new Set(['images.layers']);

/**
 * A report in a form two runs can be compared in: the fields named in `drop` (dotted paths below
 * the top, array levels skipped: `containers.name`) taken out, and every array sorted except the
 * ORDERED ones.
 */
export function canonical(x: unknown, drop: string[], at = ''): unknown {
  if (Array.isArray(x)) {
    const items = x.map((v) => canonical(v, drop, at));
    if (ORDERED.has(at)) return items;
    return items.sort((a, b) => {
      const ka = JSON.stringify(a);
      const kb = JSON.stringify(b);
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
  }
  if (x !== null && typeof x === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) {
      const p = at === '' ? k : `${at}.${k}`;
      if (!drop.includes(p)) out[k] = canonical(v, drop, p);
    }
    return out;
  }
  return x;
}

/** The errors and stderr lines that name `key` (a path, or part of one). */
export function naming(r: CdRun, key: string): { errors: CdReport['errors']; stderr: string[] } {
  return {
    errors: r.json.errors.filter((e) => `${e.path ?? ''} ${e.message}`.includes(key)),
    stderr: r.stderr.split('\n').filter((l) => l.trim() !== '' && l.includes(key)),
  };
}
