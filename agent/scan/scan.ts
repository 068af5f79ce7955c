// One scan: the collectors gather facts, the pure model turns them into the report. The Docker
// API runs beside the disk collectors and only enriches; the disk alone gives every figure.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { readBuildCacheIds } from '../../collectors/sources/buildkit.js';
import { readContainers } from '../../collectors/sources/containers.js';
import { DEFAULT_API_TIMEOUT_MS, readDockerApi } from '../../collectors/sources/docker-api.js';
import type { ApiFacts, Bytes, DriverDirRole, LayerFact, LayerIndex, ScanError } from '../../collectors/lib/facts.js';
import { readFilesystemUsage } from '../../collectors/host/filesystem.js';
import { readImages } from '../../collectors/stores/graphdriver/imagedb.js';
import { readLayers, readMounts } from '../../collectors/stores/graphdriver/layerdb.js';
import { describeError } from '../../collectors/lib/read.js';
import { probeDType } from '../../collectors/host/dtype.js';
import {
  backendFor, readConfiguredDriver, readDriverCandidates, readOverlayAvailable,
} from '../../collectors/stores/graphdriver/drivers.js';
import { chooseDriver, driverVerdict, type DriverCandidate, type DriverEvidence } from '../../collectors/stores/graphdriver/verdict.js';
import { readVolumes } from '../../collectors/sources/volumes.js';
import { prepareWalkers, walkTree } from '../../collectors/walk/walk-tree.js';
import { buildReport, wasteJobs } from '../model/build-report.js';
import { computeWasteYielding } from '../model/layer-analysis.js';
import { classifyDirs } from '../model/graph.js';
import type { CollectorRun, Report } from '../model/report.js';
import type { DirFact, ScanFacts } from '../model/scan-facts.js';

export interface ScanOptions {
  dockerRoot: string;
  dockerHost: string;
  apiTimeoutMs?: number;
  /** How the API is read (default: on this thread, readDockerApi). */
  readApi?: (url: string, timeoutMs: number) => Promise<ApiFacts>;
  /** Walks of committed image layers, kept between scans by the agent; they never change. */
  layerCache?: LayerCache;
  /** The agent's memo of image waste; replaced with this scan's figures after each scan. */
  wasteMemo?: { current: Map<string, Bytes> };
  /** Called as layer directories are done, for a progress line on a terminal. */
  onProgress?: (done: number, total: number) => void;
}

export interface CachedWalk {
  bytes: Bytes;
  index: LayerIndex | null;
}

/** Keyed by `<chain id>@<directory>`: a layer pulled again gets a new directory, so a new key. */
export type LayerCache = Map<string, CachedWalk>;

/** Carries an exit code to the CLI: the scan cannot start at all. */
export class ScanAbort extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/**
 * What tells which storage driver is in use: the disk (`image/<driver>/` and the driver's layer
 * directory), the API, daemon.json, /proc/filesystems and a d_type probe of the root's filesystem.
 */
async function detectDriver(root: string, errors: ScanError[]): Promise<DriverEvidence> {
  let candidates: DriverCandidate[] | null = null;
  try {
    candidates = await readDriverCandidates(root);
  } catch (e) {
    errors.push({ source: 'storage-driver', path: join(root, 'image'), message: describeError(e) });
  }
  const real = await fsp.realpath(root).catch(() => root);
  const [configured, overlayAvailable] = await Promise.all([readConfiguredDriver(real), readOverlayAvailable()]);
  return {
    candidates,
    apiDriver: null,
    apiStatus: [],
    configured,
    overlayAvailable,
    probe: probeDType(real),
  };
}

/**
 * Walk order, so that the walkers finish together instead of one walking a big layer alone at
 * the end: what has no size to go by and may be big (orphans, build cache) first, image layers
 * by their entry count, biggest first, as their tar-split file tells it, and containers' thin
 * writable layers last, where they fill the gaps.
 */
function walkOrder(roles: Map<string, DriverDirRole>, layerOfDir: Map<string, LayerFact>): Array<[string, DriverDirRole]> {
  const weight = ([id, role]: [string, DriverDirRole]) =>
    role === 'image-layer' ? (layerOfDir.get(id)?.tarSplitBytes ?? Infinity) : role === 'container-layer' || role === 'container-init' ? 0 : Infinity;
  return [...roles].sort((a, b) => (weight(a) === weight(b) ? 0 : weight(b) - weight(a)));
}

/** Runs one collector, timing it; it succeeded when it threw nothing and reported no problem. */
function timer(errors: ScanError[], runs: CollectorRun[]) {
  return async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const before = errors.filter((e) => e.source === name).length;
    const start = performance.now();
    let threw = false;
    try {
      return await work();
    } catch (e) {
      threw = true;
      throw e;
    } finally {
      const after = errors.filter((e) => e.source === name).length;
      runs.push({ name, success: !threw && after === before, durationSeconds: (performance.now() - start) / 1000 });
    }
  };
}

/** One entry per collector: layer metadata runs twice (layers, mounts) but is one source. */
function mergeRuns(runs: CollectorRun[]): CollectorRun[] {
  const byName = new Map<string, CollectorRun>();
  for (const r of runs) {
    const prev = byName.get(r.name);
    byName.set(r.name, prev ? { name: r.name, success: prev.success && r.success, durationSeconds: Math.max(prev.durationSeconds, r.durationSeconds) } : r);
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

export async function scan(opts: ScanOptions): Promise<Report> {
  const startedAt = new Date();
  const start = performance.now();
  const root = opts.dockerRoot;
  try {
    await fsp.readdir(root);
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory (is Docker installed here? --docker-root names another)' : describeError(e);
    throw new ScanAbort(`cannot read docker root ${root}: ${why}`, 1);
  }
  const errors: ScanError[] = [];
  const runs: CollectorRun[] = [];
  const timed = timer(errors, runs);

  // The walkers get ready beside the metadata reads (the GNU find probe, or walker processes).
  prepareWalkers();
  // The API answers beside the disk work and is awaited last: a hung daemon delays nothing. It
  // starts once the walks are under way, as loading its client is itself work for this thread.
  let apiPromise: Promise<ApiFacts | null> | null = null;
  const startApi = () =>
    (apiPromise ??= timed('docker-api', () =>
      (opts.readApi ?? readDockerApi)(opts.dockerHost, opts.apiTimeoutMs ?? DEFAULT_API_TIMEOUT_MS).catch((e: unknown) => {
        errors.push({ source: 'docker-api', path: opts.dockerHost, message: `unreachable, figures come from disk alone: ${describeError(e)}` });
        return null;
      }),
    ));
  const withApi = (e: DriverEvidence, api: ApiFacts | null): DriverEvidence => ({ ...e, apiDriver: api?.driver ?? null, apiStatus: api?.driverStatus ?? [] });
  let evidence = await timed('storage-driver', () => detectDriver(root, errors));
  // Only when the disk shows no driver at all does the choice wait for the API.
  if (chooseDriver(evidence).source !== 'disk') evidence = withApi(evidence, await startApi());
  const driver = chooseDriver(evidence).name;
  const backend = driver ? backendFor(root, driver) : null;
  const imageDir = join(root, 'image', driver ?? 'overlay2');

  // Every read starts now; the layer walks wait only for what tells which directory is what.
  const filesystemRead = timed('filesystem', () =>
    readFilesystemUsage(root).catch((e: unknown) => {
      errors.push({ source: 'filesystem', path: root, message: describeError(e) });
      return null;
    }),
  );
  const imagesRead = timed('image-metadata', () => readImages(imageDir, errors));
  const containersRead = timed('containers', () => readContainers(join(root, 'containers'), errors));
  const volumesRead = timed('volumes', () => readVolumes(join(root, 'volumes'), errors));
  const [layers, mounts, buildkit, ids] = await Promise.all([
    timed('layer-metadata', () => readLayers(imageDir, errors)),
    timed('layer-metadata', () => readMounts(imageDir, errors)),
    timed('buildkit', async () => {
      const found = await readBuildCacheIds(join(root, 'buildkit'));
      errors.push(...found.errors);
      return found;
    }),
    timed('layer-walker', async () => {
      if (!backend) return [];
      try {
        return await backend.listDirs();
      } catch (e) {
        errors.push({ source: 'layer-walker', path: backend.base, message: describeError(e) });
        return [];
      }
    }),
  ]);

  const dirs = new Map<string, DirFact>();
  const indexes = new Map<string, LayerIndex>();
  let layersWalked = 0;
  let layersReused = 0;
  const cache = opts.layerCache;
  const layerOfDir = new Map(layers.filter((l) => l.cacheId).map((l) => [l.cacheId!, l]));
  const liveKeys = new Set<string>();
  // Layers are measured by their content, as Docker and du of `diff/` see them; what nothing
  // refers to is measured whole, since removing it would free the whole directory.
  const walkPath = (id: string, role: DriverDirRole) =>
    role === 'orphan' || role === 'build-cache' ? backend!.dirPath(id) : backend!.contentPath(id);
  async function measure(id: string, role: DriverDirRole): Promise<void> {
    if (!backend) return;
    const path = walkPath(id, role);
    const key = role === 'image-layer' ? `${layerOfDir.get(id)?.chainId}@${id}` : null;
    const hit = key ? cache?.get(key) : undefined;
    if (key) liveKeys.add(key);
    if (hit) {
      dirs.set(id, { id, path, bytes: hit.bytes });
      if (hit.index) indexes.set(id, hit.index);
      layersReused += 1;
      return;
    }
    // vfs layers are full copies, not diffs: a path index of them would call every file waste.
    const index = backend.layersAreDiffs && (role === 'image-layer' || role === 'container-layer');
    // An opaque directory hides only what lies below it: nothing, in a base layer or a writable one.
    const opaque = role === 'image-layer' && !!layerOfDir.get(id)?.parent;
    const walkErrors: ScanError[] = [];
    const walked = await walkTree(path, { errors: walkErrors, source: 'layer-walker', index, opaque });
    errors.push(...walkErrors);
    dirs.set(id, { id, path, bytes: { disk: walked.size.disk, apparent: walked.size.apparent } });
    if (walked.index) indexes.set(id, walked.index);
    if (key) {
      layersWalked += 1;
      // A walk that met problems is not kept: the next scan tries again.
      if (cache && walkErrors.length === 0) cache.set(key, { bytes: dirs.get(id)!.bytes, index: walked.index });
    }
  }

  const roles = classifyDirs(ids, layers, mounts, buildkit.ids);
  const walks = timed('layer-walker', async () => {
    let done = 0;
    // Walks run a few at a time (walk-tree.ts), taken in this order.
    await Promise.all(
      walkOrder(roles, layerOfDir).map(async ([id, role]) => {
        try {
          await measure(id, role);
        } finally {
          opts.onProgress?.(++done, roles.size);
        }
      }),
    );
    if (cache) for (const k of cache.keys()) if (!liveKeys.has(k)) cache.delete(k);
  });

  // The rest of the docker root, each byte once: everything the layer walks do not cover, walked
  // beside them. BuildKit's own store is build cache; the remainder (metadata, the driver's
  // bookkeeping) is "other", so that the total is the whole root.
  const rootWalks = Promise.all([containersRead, volumesRead]).then(([containers, volumes]) =>
    timed('docker-root', async () => {
      const skip = [
        ...(backend ? [...roles].map(([id, role]) => walkPath(id, role)) : []),
        join(root, 'buildkit'),
        ...volumes.map((v) => join(root, 'volumes', v.name, '_data')),
        ...containers.flatMap((c) => c.logPaths),
      ];
      const source = 'docker-root';
      // A root without BuildKit's directory is normal (it appears with the first BuildKit build).
      const storeErrors: ScanError[] = [];
      const store = walkTree(join(root, 'buildkit'), { errors: storeErrors, source });
      const rest = walkTree(root, { errors, source, skip });
      const [s, r] = [await store, await rest];
      if (s.size.entries > 0) errors.push(...storeErrors);
      return [s.size, r.size] as const;
    }),
  );
  startApi();
  const [, [buildkitStore, other], filesystem, images, containers, volumes] = await Promise.all([
    walks,
    rootWalks,
    filesystemRead,
    imagesRead,
    containersRead,
    volumesRead,
  ]);

  // Waste figures are worked out here, pausing between steps, so that buildReport (synchronous,
  // pure) finds them all in the memo and a scrape never waits behind a million paths; and before
  // the API is awaited, so that a slow daemon's answer overlaps them.
  const known = new Map(opts.wasteMemo?.current ?? []);
  for (const job of wasteJobs({ images, layers, indexes }).values()) {
    if (job.indexes && !known.has(job.key)) known.set(job.key, await computeWasteYielding(job.indexes));
  }
  const api = await startApi();
  evidence = withApi(evidence, api);
  const facts: ScanFacts = {
    dockerRoot: root,
    driver: driverVerdict(evidence, driver, backend !== null),
    filesystem,
    driverBase: backend?.base ?? join(root, driver ?? ''),
    images,
    layers,
    mounts,
    containers,
    volumes,
    dirs,
    // vfs layers are full copies, not diffs: stacking their indexes would call every file wasted.
    indexes,
    buildCacheIds: buildkit.ids,
    buildkitStore: { disk: buildkitStore.disk, apparent: buildkitStore.apparent },
    other: { disk: other.disk, apparent: other.apparent },
    api,
    errors,
    scan: {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      durationSeconds: (performance.now() - start) / 1000,
      collectors: mergeRuns(runs),
      layersWalked,
      layersReused,
    },
  };
  const next = new Map<string, Bytes>();
  facts.wasteMemo = { previous: known, next };
  const report = buildReport(facts);
  if (opts.wasteMemo) opts.wasteMemo.current = next;
  return report;
}
