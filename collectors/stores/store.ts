// The seam between the scan and an image store. A store owns identity: it finds itself on the
// host, says which of its directories is which image layer, container layer, build cache or leak,
// how each is walked, and what its driver verdict is. The scan only walks and adds up.
import type { HostPaths } from '../host/paths.js';
import type { ApiFacts, BlobFact, ContainerFact, DirFact, HoldFact, RecordPath, DriverDirRole, DriverFact, ImageFact, LayerFact, MountFact, OrphanKind, Problem } from '../lib/facts.js';
import type { OpaqueRecord } from '../walk/opaque-records.js';
import type { WalkFlags } from '../walk/semantics.js';

/**
 * Runs one named collector (agent/scan/runner.ts): times it, stamps its name on every problem it
 * pushes, and gives `fallback` when it throws. Stores run their reads through it.
 */
export type Collect = <T>(name: string, work: (problems: Problem[]) => Promise<T>, fallback: T) => Promise<T>;

/** `--containerd-root` and `--containerd-namespace`: unset means detected, and every namespace. */
export interface ContainerdOptions {
  root?: string;
  namespace?: string;
}

export interface StoreContext {
  dockerRoot: string;
  host: HostPaths;
  containerd: ContainerdOptions;
  collect: Collect;
  /** The Docker API's answer, for what the disk cannot tell; null when it did not answer. */
  api(): Promise<ApiFacts | null>;
  /** Directory ids BuildKit's own records name (its `buildkit/*.db`). */
  buildCacheIds: Promise<Set<string>>;
}

/** One directory of a store to measure. */
export interface StoreDir extends WalkFlags {
  id: string;
  role: DriverDirRole;
  /** What is walked: a layer's content, or the whole directory of what nothing refers to. */
  path: string;
  /** Walk order, biggest first: an entry-count hint; Infinity when unknown and maybe big. */
  weight: number;
  /** Image layers never change: their walk is kept under this key between scans. */
  cacheKey: string | null;
  /** The store's own record of the layer (its size, its entry count): part of the kept walk's stamp. */
  record?: string;
  /** Orphans only: what it is. */
  kind?: OrphanKind;
  /** A single file (a content blob): measured by its own lstat, not walked. */
  file?: boolean;
  /** How many entries the walked tree has, when the store recorded it. */
  entries?: number;
  /** Where the store recorded the layer's opaque directories, for an agent that cannot read their xattr. */
  opaqueRecord?: OpaqueRecord;
}

export interface Inventory {
  images: ImageFact[];
  layers: LayerFact[];
  mounts: MountFact[];
  dirs: StoreDir[];
  /** Content blobs (containerd); each is also a StoreDir whose id is its digest. */
  blobs?: BlobFact[];
  /**
   * Containers the store records itself (containerd's, outside Docker's namespace: the CRI's on
   * a Kubernetes node), without logs: the scan reads those where the kubelet keeps them.
   */
  containers?: ContainerFact[];
  /** What removing each image, layer or container also frees: its records (reclaim). */
  records?: RecordPath[];
  /** What else holds image units: BuildKit's records and build history (containerd store). */
  holds?: HoldFact[];
  /**
   * The directories the store owns. What in them its dirs leave out (metadata, bookkeeping) is
   * "other"; a root outside the docker root (containerd's) is walked for it as well.
   */
  roots: string[];
}

export interface FoundStore {
  /** `graphdriver` or `containerd` (../shared/contract.md, "Stores"). */
  readonly store: string;
  /** The storage driver or snapshotter; null when nothing tells. */
  readonly driver: string | null;
  /** The directory its layers live in. */
  readonly root: string;
  /** Whether Docker uses it now, as far as the disk tells: a host that switched store keeps the old one. */
  readonly active: boolean;
  /** When its metadata last changed (ms): between two stores that claim use, the newer wins. */
  readonly changedMs: number | null;
  /** The containerd namespace measured, when one was asked for. */
  readonly namespace?: string;
  inventory(ctx: StoreContext): Promise<Inventory>;
  /** The driver block, once the walks are done and the API has answered or not. */
  verdict(api: ApiFacts | null, inventory: Inventory, dirs: ReadonlyMap<string, DirFact>): DriverFact;
}

export interface Store {
  readonly name: string;
  /** The store as found on this host, or null when it is not here. */
  detect(ctx: StoreContext): Promise<FoundStore | null>;
}
