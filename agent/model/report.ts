// The report: the one result that `--report` (text, json, prom) and `/metrics` render.
// Field names are fixed by ../shared/contract.md; extensions are marked as such.
import type { Bytes, FilesystemUsage, OrphanKind, ScanError, StoreFact } from '../../collectors/lib/facts.js';
import type { HostFacts } from '../../collectors/lib/host-facts.js';
import type { LogAuditEntry, LogLimit } from './log-audit.js';

export interface SharedUnique {
  total: number;
  shared: number;
  unique: number;
}

export interface DriverReport {
  name: string;
  /** The image store Docker uses: `graphdriver` or `containerd` (`none` when no store was found). */
  store: string;
  backingFs: string | null;
  dType: boolean | null;
  vfsFallback: boolean;
  reason: string;
  vfsDuplicateBytes?: number;
}

export interface ImageReport {
  id: string;
  tags: string[];
  layers: string[]; // chain IDs, bottom first
  disk: SharedUnique;
  apparent: SharedUnique;
  /** The content blobs' part of the totals (containerd store; 0 on graphdriver). */
  content: Bytes;
  wasted: Bytes;
  containers: number;
  /** Extension (containerd store): the namespace that names it. */
  namespace?: string;
  /** What `docker rmi` of it would free now, its records included: 0 while a container uses it. */
  rmi: Bytes;
}

/** graphdriver: `diffId` and `cacheId`; containerd: `snapshotId` and `namespace`. */
export interface LayerReport {
  chainId: string;
  diffId?: string;
  cacheId?: string | null;
  snapshotId?: string;
  namespace?: string;
  disk: number;
  apparent: number;
  images: string[];
  containers: string[];
}

export interface ContainerReport {
  id: string;
  name: string;
  imageId: string;
  state: string;
  writable: Bytes;
  init: Bytes;
  copiedUp: Bytes;
  /** Disk bytes of the container's json-file logs, rotated and compressed ones included. */
  logs: number;
  /** Extension: the same logs on the apparent basis (sum of st_size). */
  logsApparent: number;
  /**
   * Extension: containers containerd records itself (a Kubernetes node's): their namespace, the
   * CRI's kind (a pod's sandbox or one of its containers) and their pod, `<namespace>/<pod>`.
   */
  namespace?: string;
  kind?: 'container' | 'sandbox';
  pod?: string;
  /** Extension: what bounds its log files (Docker's containers; see log-audit.ts). */
  logLimit?: LogLimit;
}

export interface VolumeReport {
  name: string;
  disk: number;
  apparent: number;
  containers: string[];
  /** Extension: made by Docker 23+ for a container's anonymous mount (`volume prune` takes these). */
  anonymous: boolean;
}

/** What an owner's containers, volumes and images cost on disk (../shared/contract.md, "Owners"). */
export interface OwnerDisk {
  /** Its containers' writable layers, their `-init` layers included. */
  writable: number;
  logs: number;
  /** The named volumes only its containers mount. */
  volumes: number;
  /** Image units no image outside the owner's own (those only its containers use) holds. */
  imagesExclusive: number;
  /** The other units of the images its containers use. */
  imagesShared: number;
}

export interface OwnerReport {
  kind: 'compose-project' | 'label' | 'k8s-namespace' | 'k8s-pod';
  name: string;
  containers: string[];
  /** Extension (compose projects): each container's `com.docker.compose.service`, by id. */
  services?: Record<string, string>;
  disk: OwnerDisk;
}

/** Extension: a Kubernetes node's image bytes as the kubelet sees them, and as they are (disk bytes). */
export interface KubernetesReport {
  /** containerd's namespace of the CRI: `k8s.io`. */
  namespace: string;
  pods: number;
  /** The pods' containers, and their sandboxes (pause containers), told apart. */
  containers: number;
  sandboxes: number;
  /** What the kubelet's `imagefs` used bytes say: every snapshot of the namespace. */
  imagefs: { used: number; imageLayers: number; containerLayers: number };
  /** The true image bytes: the image snapshots and the compressed blobs kept beside them. */
  images: { layers: number; content: number; total: number };
}

/** What one clean-up would free under the roots if it ran now, alone (../shared/contract.md, "Reclaim"). */
export interface ReclaimReport {
  action: string;
  /** The command to run, right for the daemon's version; null for what only a person should do. */
  command: string | null;
  disk: number;
  apparent: number;
  /** How many objects it removes (containers, images, volumes, cache directories, logs…). */
  objects: number;
}

export interface ContentReport {
  digest: string;
  mediaType: string | null;
  disk: number;
  apparent: number;
  images: string[];
}

export interface OrphanReport {
  id: string;
  kind: OrphanKind;
  path: string;
  disk: number;
  apparent: number;
}

export interface BuildCacheReport {
  /** The build-cache directories under the storage driver, plus BuildKit's own store (`buildkit/`). */
  disk: number;
  apparent: number;
  dirs: number;
}

export interface DiskTotals {
  imageLayers: number;
  /** The content blobs images hold (containerd store). */
  imageContent: number;
  containerLayers: number;
  volumes: number;
  logs: number;
  buildCache: number;
  orphans: number;
  /**
   * Extension: the rest of the docker root (image and layer metadata, container configs, the
   * storage driver's own bookkeeping, networks…), so that `total` is the whole root, each byte once.
   */
  other: number;
  total: number;
}

export interface Totals {
  disk: DiskTotals;
  /** Extension: the same categories on the apparent basis. */
  apparent: DiskTotals;
  naiveVirtual: number;
}

export interface CollectorRun {
  name: string;
  success: boolean;
  durationSeconds: number;
}

/** Extension: how the scan went, for the agent's own health metrics. */
export interface ScanMeta {
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  collectors: CollectorRun[];
  /** Image layers walked in this scan, and image layers whose earlier walk was reused. */
  layersWalked: number;
  layersReused: number;
}

export interface Report {
  /** Extension: where the facts came from. */
  dockerRoot: string;
  apiUp: boolean;
  /** Extension: set on a host without a docker root (containerd alone), where no API was asked. */
  dockerAbsent?: true;
  driver: DriverReport;
  /** Every image store found on the host, the one Docker no longer uses included. */
  stores: StoreFact[];
  /** Extension: the filesystem holding the docker root. */
  filesystem: FilesystemUsage | null;
  /** Extension: the host's OS, kernel and the device under the docker root (type: nvme, ssd, hdd, virtual, unknown). */
  host?: HostFacts;
  images: ImageReport[];
  layers: LayerReport[];
  content: ContentReport[];
  containers: ContainerReport[];
  volumes: VolumeReport[];
  /** Compose projects, Kubernetes namespaces and pods, `--owner.label` values, by kind and name. */
  owners: OwnerReport[];
  /** Extension: the containers whose json-file logs have no size limit, biggest first (see log-audit.ts). */
  logAudit?: LogAuditEntry[];
  /** Extension: present when containerd holds a Kubernetes namespace (`k8s.io`). */
  kubernetes?: KubernetesReport;
  orphans: OrphanReport[];
  buildCache: BuildCacheReport;
  /** Every clean-up of the contract and what it would free now. */
  reclaim: ReclaimReport[];
  totals: Totals;
  /** Extension: every problem met during the scan; the scan went on past each. */
  errors: ScanError[];
  scan: ScanMeta;
}
