// One scan: detect the stores → take their inventory → walk what they hold → analyse → the pure
// model. The Docker API runs beside the disk work and only enriches; the disk alone gives every
// figure.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { HostFacts } from '../../collectors/host/device.js';
import { readFilesystemUsage } from '../../collectors/host/filesystem.js';
import { rootfsPath, type HostPaths } from '../../collectors/host/paths.js';
import { addBytes, ZERO, type ApiFacts, type Bytes, type DirFact, type DriverFact, type LayerIndex, type Problem, type RecordPath, type StoreFact } from '../../collectors/lib/facts.js';
import { describeError } from '../../collectors/lib/errors.js';
import { readBuildCacheIds, readBuildkitChains } from '../../collectors/sources/buildkit.js';
import { readContainers } from '../../collectors/sources/containers.js';
import { readDaemonLog } from '../../collectors/sources/log-config.js';
import { readPodLogs } from '../../collectors/sources/pod-logs.js';
import { DEFAULT_API_TIMEOUT_MS, readDockerApi } from '../../collectors/sources/docker-api.js';
import { readVolumes } from '../../collectors/sources/volumes.js';
import { STORES } from '../../collectors/stores/index.js';
import type { ContainerdOptions, FoundStore, Inventory, StoreContext } from '../../collectors/stores/store.js';
import { measureRecord, prepareWalkers } from '../../collectors/walk/walk-tree.js';
import { buildReport } from '../model/build-report.js';
import type { PreviousLogs } from '../model/log-audit.js';
import type { Report } from '../model/report.js';
import type { ScanFacts } from '../model/scan-facts.js';
import { unjoined } from './joins.js';
import { CollectorRunner } from './runner.js';
import { walkRestOfRoots, type RestOfRoots } from './rest-of-root.js';
import { workOutCopiedUp, workOutWaste, type CopyUpMemo } from './stepped-analyses.js';
import { beginListedScan, walkDirs, type LayerCache, type ListingsMemo } from './walk-dirs.js';

export type { CachedWalk, LayerCache } from './walk-dirs.js';

export interface ScanOptions {
  dockerRoot: string;
  dockerHost: string;
  host: HostPaths;
  /** Where the containerd store is, when not where it is looked for, and which namespace. */
  containerd?: ContainerdOptions;
  apiTimeoutMs?: number;
  /** `--owner.label` keys: each distinct value of each is an owner. */
  ownerLabels?: string[];
  /** `--path.pod-logs`: the kubelet's pod log directory (default `/var/log/pods` under the rootfs). */
  podLogs?: string;
  /** How the API is read (default: on this thread, readDockerApi). */
  readApi?: (url: string, timeoutMs: number) => Promise<ApiFacts>;
  /** Walks of committed image layers, kept between scans by the agent; they never change. */
  layerCache?: LayerCache;
  /** The memo of image waste (the agent's, or the persisted cache's); replaced with this scan's figures after each scan. */
  wasteMemo?: { current: Map<string, Bytes> };
  /** The agent's memo of what its last walks of writable layers listed (walk-dirs.ts). */
  listings?: ListingsMemo;
  /** The agent's memo of copy-up figures, replaced after each scan (stepped-analyses.ts). */
  copyUpMemo?: CopyUpMemo;
  /** The agent's previous scan's log bytes of each container: the log audit's growth (absent: none). */
  previousLogs?: PreviousLogs;
  /** Called as layer directories are done, for a progress line on a terminal. */
  onProgress?: (done: number, total: number) => void;
  /** The host's facts, learnt once at start (collectors/host/device.ts): the report's `host`. */
  hostFacts?: HostFacts;
}

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
 * Whether the docker root is there. A missing one is no failure yet: a Kubernetes node runs
 * containerd alone, and the scan aborts only when no image store is found either.
 */
async function openRoot(root: string): Promise<boolean> {
  try {
    await fsp.readdir(root);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new ScanAbort(`cannot read docker root ${root}: ${describeError(e)}`, 1);
  }
}

/** Each object's records, summed by key; a few at a time, so that none holds the event loop. */
async function measureRecords(records: RecordPath[], problems: Problem[]): Promise<Map<string, Bytes>> {
  const out = new Map<string, Bytes>();
  for (let i = 0; i < records.length; i += 32) {
    const batch = records.slice(i, i + 32);
    const sizes = await Promise.all(batch.map((r) => measureRecord(r.path, r.skip, problems)));
    batch.forEach((r, n) => out.set(r.key, addBytes(out.get(r.key) ?? ZERO, sizes[n]!)));
  }
  return out;
}

/** Every store's inventory as one: ids of directories are the stores' own and never collide. */
function joinInventories(all: Inventory[]): Inventory {
  return {
    images: all.flatMap((i) => i.images),
    layers: all.flatMap((i) => i.layers),
    mounts: all.flatMap((i) => i.mounts),
    dirs: all.flatMap((i) => i.dirs),
    roots: all.flatMap((i) => i.roots),
    blobs: all.flatMap((i) => i.blobs ?? []),
    containers: all.flatMap((i) => i.containers ?? []),
    records: all.flatMap((i) => i.records ?? []),
    holds: all.flatMap((i) => i.holds ?? []),
  };
}

/**
 * Which stores Docker uses now. Two that both claim use (a host that switched store) are settled
 * by the API's driver, else by which one's metadata changed last.
 */
export function settleActive(stores: Pick<FoundStore, 'active' | 'driver' | 'changedMs'>[], api: ApiFacts | null): boolean[] {
  const claims = stores.map((s) => s.active);
  if (claims.filter(Boolean).length < 2) return claims;
  const named = stores.map((s, i) => claims[i]! && s.driver === api?.driver);
  if (named.some(Boolean)) return named;
  const newest = Math.max(...stores.filter((s) => s.active).map((s) => s.changedMs ?? -Infinity));
  const winner = stores.findIndex((s) => s.active && (s.changedMs ?? -Infinity) === newest);
  return stores.map((_, i) => i === winner);
}

/** Each store with its bytes: its directories and its share of the rest of the roots. */
function storeFacts(stores: FoundStore[], active: boolean[], inventories: Inventory[], dirs: ReadonlyMap<string, DirFact>, rest: RestOfRoots): StoreFact[] {
  return stores.map((s, i) => {
    let disk = rest.stores[i]?.disk ?? 0;
    for (const d of inventories[i]!.dirs) disk += dirs.get(d.id)?.bytes.disk ?? 0;
    return { store: s.store, driver: s.driver ?? 'unknown', root: s.root, ...(s.namespace ? { namespace: s.namespace } : {}), active: active[i]!, disk };
  });
}

function noStoreVerdict(root: string): DriverFact {
  return {
    name: 'unknown',
    store: 'none',
    backingFs: null,
    dType: null,
    vfsFallback: false,
    reason: `No image store was found under ${root}, and the Docker API did not name a storage driver.`,
  };
}

export async function scan(opts: ScanOptions): Promise<Report> {
  const startedAt = new Date();
  const start = performance.now();
  const root = opts.dockerRoot;
  const rootPresent = await openRoot(root);
  const runner = new CollectorRunner();
  const { collect } = runner;

  // The walkers get ready beside the metadata reads (the GNU find probe, or walker processes),
  // and the trees walked every scan that the spawner walked last time start walking.
  prepareWalkers();
  if (opts.listings) beginListedScan(opts.listings);
  // The API answers beside the disk work and is awaited last: a hung daemon delays nothing. It
  // starts once the walks are under way, as loading its client is itself work for this thread.
  // A host without a docker root has no Docker to ask (a Kubernetes node: containerd alone).
  let apiPromise: Promise<ApiFacts | null> | null = rootPresent ? null : Promise.resolve(null);
  const api = () =>
    (apiPromise ??= collect('docker-api', async (problems) => {
      try {
        return await (opts.readApi ?? readDockerApi)(opts.dockerHost, opts.apiTimeoutMs ?? DEFAULT_API_TIMEOUT_MS);
      } catch (e) {
        problems.push({ path: opts.dockerHost, message: `unreachable, figures come from disk alone: ${describeError(e)}` });
        return null;
      }
    }, null));
  const ctx: StoreContext = {
    dockerRoot: root,
    host: opts.host,
    containerd: opts.containerd ?? {},
    collect,
    api,
    buildCacheIds: collect('buildkit', (p) => readBuildCacheIds(join(root, 'buildkit'), p), new Set<string>()),
  };

  // Detect: every store on the host is measured, the one Docker no longer uses included.
  const stores = (await Promise.all(STORES.map((s) => s.detect(ctx)))).filter((s): s is FoundStore => s !== null);
  if (!rootPresent && stores.length === 0) {
    throw new ScanAbort(`cannot read docker root ${root}: no such directory, and no containerd store was found (is Docker installed here? --docker-root and --containerd-root name others)`, 1);
  }
  // Without a docker root (containerd alone) the filesystem is the one the store sits on.
  const fsRoot = rootPresent ? root : stores[0]!.root;

  // Inventory: every read starts now; the walks wait only for what tells which directory is what.
  const filesystemRead = collect('filesystem', async (problems) => {
    try {
      return await readFilesystemUsage(fsRoot, opts.host);
    } catch (e) {
      // Name the file that failed: a missing mountinfo is a --path.procfs that is not the host's /proc.
      const file = (e as NodeJS.ErrnoException).path ?? fsRoot;
      const hint = file.startsWith(opts.host.proc) ? ` (is --path.procfs ${opts.host.proc} a /proc?)` : '';
      problems.push({ path: file, message: `${describeError(e)}${hint}` });
      return null;
    }
  }, null);
  const containersRead = collect('containers', (p) => readContainers(join(root, 'containers'), p), []);
  const chainsRead = collect('buildkit', (p) => readBuildkitChains(join(root, 'buildkit'), p), { dirs: new Map<string, string>(), held: new Set<string>() });
  const daemonLogRead = collect('containers', (p) => readDaemonLog(opts.host, root, p), null);
  const volumesRead = collect('volumes', (p) => readVolumes(join(root, 'volumes'), p), []);
  const inventories = await Promise.all(stores.map((s) => s.inventory(ctx)));
  const inventory = joinInventories(inventories);
  // Containers the stores record themselves (a Kubernetes node's), with the kubelet's logs of them.
  const podLogs = opts.podLogs ?? rootfsPath(opts.host, 'var', 'log', 'pods');
  const recorded = inventory.containers?.length
    ? collect('pod-logs', (p) => readPodLogs(podLogs, inventory.containers!, p), inventory.containers)
    : Promise.resolve([]);

  // Walk: the stores' directories, and beside them the rest of the root.
  const walks = collect('layer-walker', (p) => walkDirs(inventory.dirs, p, opts.layerCache, { onProgress: opts.onProgress, ...(opts.listings ? { listings: opts.listings } : {}) }), {
    dirs: new Map<string, DirFact>(),
    indexes: new Map(),
    layersWalked: 0,
    layersReused: 0,
    fresh: new Set<LayerIndex>(),
  });
  const restWalk = Promise.all([containersRead, volumesRead]).then(([containers, volumes]) =>
    collect('docker-root', (p) => {
      const skip = [
        ...inventory.dirs.map((d) => d.path),
        ...volumes.map((v) => join(root, 'volumes', v.name, '_data')),
        ...containers.flatMap((c) => c.logPaths),
      ];
      return walkRestOfRoots(rootPresent ? root : null, inventories.map((i) => i.roots), skip, p);
    }, { buildkitStore: { disk: 0, apparent: 0, entries: 0 }, other: { disk: 0, apparent: 0, entries: 0 }, stores: [] } as RestOfRoots),
  );
  // Records: what each clean-up would also remove (reclaim), beside the walks.
  const recordsRead = Promise.all([containersRead, volumesRead]).then(([containers, volumes]) =>
    collect('records', (p) => measureRecords([
      ...(inventory.records ?? []),
      ...containers.map((c) => ({ key: `container:${c.id}`, path: join(root, 'containers', c.id) })),
      ...volumes.map((v) => ({ key: `volume:${v.name}`, path: join(root, 'volumes', v.name), skip: join(root, 'volumes', v.name, '_data') })),
    ], p), new Map<string, Bytes>()),
  );
  api();
  const [walked, rest, filesystem, dockers, volumes, cri, records, buildCacheChains] = await Promise.all([
    walks, restWalk, filesystemRead, containersRead, volumesRead, recorded, recordsRead, chainsRead,
  ]);
  const containers = [...dockers, ...cri];
  // A store whose metadata file could not be read (a damaged bbolt file) is named already, and
  // every join with it fails: say it once. Problems with single records leave the joins on.
  const metadataNamed = runner.errors.some((e) => e.source === 'containerd-metadata' && /\.db$/.test(e.path ?? ''));
  // The writable layers a store that lists its driver's directory expects to find there.
  const listing = new Set(inventories.filter((i) => i.dirs.length > 0).flatMap((i) => i.mounts.map((m) => m.mountId)));
  if (!metadataNamed) await collect('layer-metadata', async (p) => p.push(...unjoined(containers, inventory, walked.dirs, listing)), undefined);

  // Analyse: waste and copy-up before the API is awaited, so that a slow daemon's answer overlaps them.
  const waste = await workOutWaste(inventory, walked.indexes, opts.wasteMemo?.current, walked.fresh);
  const copiedUp = await workOutCopiedUp({ images: inventory.images, layers: inventory.layers, mounts: inventory.mounts, containers, indexes: walked.indexes }, opts.copyUpMemo);
  const apiFacts = await api();
  // The driver block is the store Docker uses now (any store found, when none says so).
  const active = settleActive(stores, apiFacts);
  const at = Math.max(0, active.indexOf(true));
  const facts: ScanFacts = {
    dockerRoot: root,
    driver: stores[at]?.verdict(apiFacts, inventories[at]!, walked.dirs) ?? noStoreVerdict(root),
    stores: storeFacts(stores, active, inventories, walked.dirs, rest),
    filesystem,
    ...(opts.hostFacts ? { host: opts.hostFacts } : {}),
    images: inventory.images,
    layers: inventory.layers,
    blobs: inventory.blobs,
    mounts: inventory.mounts,
    containers,
    volumes,
    dirs: walked.dirs,
    indexes: walked.indexes,
    buildkitStore: { disk: rest.buildkitStore.disk, apparent: rest.buildkitStore.apparent },
    other: { disk: rest.other.disk, apparent: rest.other.apparent },
    api: apiFacts,
    ...(rootPresent ? {} : { dockerAbsent: true }),
    daemonLog: await daemonLogRead,
    previousLogs: opts.previousLogs,
    errors: runner.errors,
    scan: {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      durationSeconds: (performance.now() - start) / 1000,
      collectors: runner.collectors(),
      layersWalked: walked.layersWalked,
      layersReused: walked.layersReused,
    },
    waste,
    copiedUp,
    records,
    buildCacheChains,
    holds: inventory.holds,
    ownerLabels: opts.ownerLabels ?? [],
  };
  if (opts.wasteMemo) opts.wasteMemo.current = waste;
  return buildReport(facts);
}
