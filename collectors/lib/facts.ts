// The plain facts the collectors read from disk and from the Docker API. The model (agent/model)
// is a pure function of these; nothing here does I/O. No fact names a store's layout: a layer is
// held in a directory with an id, wherever the store keeps it.
import type { LogConfigFact } from './log-config.js';

/** Both byte bases of ../shared/contract.md: `disk` = st_blocks*512 (du -sB1), `apparent` = Docker's rule. */
export interface Bytes {
  disk: number;
  apparent: number;
}

export const ZERO: Bytes = Object.freeze({ disk: 0, apparent: 0 });

export function addBytes(a: Bytes, b: Bytes): Bytes {
  return { disk: a.disk + b.disk, apparent: a.apparent + b.apparent };
}

/**
 * What one path of a layer is, as overlayfs sees it. `whiteout` is a 0/0 char device (a delete);
 * `opaque` is a directory whose lower contents are hidden (trusted.overlay.opaque=y).
 */
export type EntryKind = 'file' | 'dir' | 'opaque' | 'whiteout' | 'other';

export interface IndexEntry {
  kind: EntryKind;
  disk: number;
  apparent: number;
  /** Set only for non-directories with more than one link, so hardlinks are counted once. */
  ino?: number;
}

/** Every path of one layer, for waste and copy-up analysis (compact: see path-index.ts). */
export type { PathIndex as LayerIndex } from './path-index.js';

/** The result of walking one directory tree. */
export interface TreeSize extends Bytes {
  entries: number;
}

export interface ImageFact {
  id: string; // "sha256:<64 hex>"
  parent: string | null;
  diffIds: string[];
  tags: string[]; // "repo:tag"
  digests: string[]; // "repo@sha256:…"
  created: string | null;
  /**
   * The layers it holds, bottom first, where they are not just the chain ids of its diff ids
   * (containerd: the top snapshot's parent chain, `-init` snapshots of classic builds included).
   */
  layerKeys?: string[];
  /** The content blobs it holds (manifest, config, layers), by digest: stores that keep them. */
  blobs?: string[];
  /**
   * How Docker's own `Size` counts its layers: apparent bytes (graphdriver), or disk usage
   * (containerd's snapshot usage, beside the blobs' apparent sizes).
   */
  sizeBasis?: 'apparent' | 'disk';
  /** containerd store: the namespace that names it (its id is prefixed outside Docker's `moby`). */
  namespace?: string;
  /** containerd store: its layers' blobs, bottom first (what BuildKit compares its cache records with). */
  layerBlobs?: string[];
}

export interface LayerFact {
  chainId: string;
  diffId: string;
  parent: string | null;
  /** The id of the directory that holds the layer; null when its record is missing or corrupt. */
  cacheId: string | null;
  /** The store's own record of the layer's size (Docker's apparent size of its changes). */
  size: number | null;
  /**
   * A measure of how many entries the layer has, for the walk order (graphdriver: the bytes of
   * layerdb's `tar-split.json.gz`, which holds a tar header for every entry).
   */
  tarSplitBytes?: number;
  /** containerd store: the snapshot's own id (its `snapshots/<id>` directory) and namespace. */
  snapshotId?: string;
  namespace?: string;
}

/** A content blob an image or BuildKit holds (containerd store); its bytes are its dir fact's. */
export interface BlobFact {
  digest: string;
  mediaType: string | null;
}

/** One image store found on the host (../shared/contract.md, "Stores"). */
export interface StoreFact {
  store: string;
  driver: string;
  root: string;
  namespace?: string;
  active: boolean;
  /** Every byte under the store's roots. */
  disk: number;
}

/** A container's own layers: the writable one and its `-init`, by directory id. */
export interface MountFact {
  containerId: string;
  mountId: string;
  initId: string | null;
  parent: string | null; // chain ID of the image's top layer
}

export type ContainerState = 'created' | 'running' | 'paused' | 'restarting' | 'exited' | 'dead' | 'removing' | 'unknown';

export interface ContainerFact {
  id: string;
  name: string;
  imageId: string;
  state: ContainerState;
  /** Names of the named volumes it mounts. */
  volumes: string[];
  /** `Config.Labels` of config.v2.json: who owns it (compose project, `--owner.label` keys). */
  labels: Record<string, string>;
  logs: Bytes;
  logFiles: number;
  /** The log files themselves, so the rest of the container's directory can be told apart. */
  logPaths: string[];
  /** Its log driver and the options that bound its files (hostconfig.json; absent: no such record). */
  log?: LogConfigFact;
  /**
   * Containers containerd records itself (the CRI's, `ctr`'s), outside Docker's namespace: that
   * namespace (their id is prefixed with it), and what the CRI's `io.cri-containerd.kind` says.
   */
  namespace?: string;
  kind?: 'container' | 'sandbox';
  /** When containerd created it (RFC 3339): of two restarts of one pod container, the newer logs. */
  created?: string | null;
}

export interface VolumeFact {
  name: string;
  bytes: Bytes;
  /** Docker 23+ labels the volumes it makes for containers (`com.docker.volume.anonymous`). */
  anonymous?: boolean;
}

export type DriverDirRole = 'image-layer' | 'image-content' | 'container-layer' | 'container-init' | 'build-cache' | 'orphan';

/** What an orphan is (../shared/contract.md): a graphdriver directory, a snapshot, a blob, a download. */
export type OrphanKind = 'layer-dir' | 'snapshot' | 'blob' | 'ingest';

/** One directory of a store, what it is, and what its walk measured. */
export interface DirFact {
  id: string;
  role: DriverDirRole;
  /** The tree that was measured: a layer's content (overlay2 `diff/`), or the whole directory. */
  path: string;
  bytes: Bytes;
  /** Orphans only: what it is. */
  kind?: OrphanKind;
}

/** The filesystem that holds the docker root. */
export interface FilesystemUsage {
  mountpoint: string;
  fstype: string;
  source: string;
  device: string;
  size: number;
  avail: number;
}

export interface DriverFact {
  /** The image store: `graphdriver` or `containerd`. */
  store: string;
  name: string; // overlay2, vfs, …
  backingFs: string | null;
  dType: boolean | null;
  vfsFallback: boolean;
  reason: string;
  vfsDuplicateBytes?: number;
}

/**
 * What the Docker API said, when it answered. It enriches (names, state) and cross-checks; no
 * figure depends on it. Size queries (`/system/df`, `size=1`) are left out on purpose: they make
 * the daemon walk every layer, which is slow on big hosts and is what layerdu does itself.
 */
export interface ApiFacts {
  containers: Map<string, { name: string; state: string; imageId: string }>;
  driver: string | null;
  driverStatus: Array<[string, string]>;
  dockerRootDir: string | null;
  serverVersion: string | null;
  /** The API version the daemon speaks (`1.45`): what its prunes remove depends on it. */
  apiVersion?: string | null;
}

/**
 * A problem a collector met and went on past. Collectors push these into the list they are given
 * and never name themselves: the collector runner (agent/scan/runner.ts) stamps the source.
 */
export interface Problem {
  /** The path or object concerned, when there is one. */
  path: string | null;
  message: string;
}

export interface ScanError extends Problem {
  /** The collector that met the problem. */
  source: string;
}

/**
 * Metadata that goes with an object when Docker removes it: a layer's record and the rest of its
 * directory, an image's config and metadata, a container's directory. `key` names the object
 * (`layer:<key>`, `image:<id>`, `container:<id>`, `volume:<name>`); `skip` a part counted
 * elsewhere (a layer's `diff/`). Measured only to say what a clean-up frees.
 */
export interface RecordPath {
  key: string;
  path: string;
  skip?: string;
}

/**
 * Something besides images and containers that holds image units (the containerd store): a
 * BuildKit cache record, which `docker builder prune` removes, or the build history, which no
 * prune does. `units` are `layer:<key>`, `blob:<digest>` and `cache:<dir id>`.
 */
export interface HoldFact {
  id: string;
  kind: 'build-record' | 'build-history';
  units: string[];
  /**
   * The blobs of the layers the record's snapshot sits on and exported, bottom first: BuildKit
   * calls a record shared, and `builder prune` without -a keeps it, while an image's layers begin
   * with these.
   */
  chain: string[];
}

