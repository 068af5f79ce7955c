// Everything one scan learned, as plain data: the input of buildReport(). Nothing here names a
// store's layout: directories are measured and classified by their store before they get here.
import type {
  ApiFacts, BlobFact, Bytes, ContainerFact, DirFact, HoldFact, DriverFact, FilesystemUsage, ImageFact, LayerFact, LayerIndex, MountFact,
  ScanError, StoreFact, VolumeFact,
} from '../../collectors/lib/facts.js';
import type { HostFacts } from '../../collectors/lib/host-facts.js';
import type { LogConfigFact } from '../../collectors/lib/log-config.js';
import type { PreviousLogs } from './log-audit.js';
import type { ScanMeta } from './report.js';

export type { DirFact } from '../../collectors/lib/facts.js';

export interface ScanFacts {
  dockerRoot: string;
  /** The driver block, its store's verdict (with `vfsDuplicateBytes` on vfs). */
  driver: DriverFact;
  /** Every image store found (absent: none listed). */
  stores?: StoreFact[];
  filesystem: FilesystemUsage | null;
  /** The host's OS and the device under the docker root (absent: not learnt, as in tests). */
  host?: HostFacts;
  images: ImageFact[];
  layers: LayerFact[];
  /** Content blobs the stores keep (containerd); their bytes are in `dirs`, by digest. */
  blobs?: BlobFact[];
  mounts: MountFact[];
  containers: ContainerFact[];
  volumes: VolumeFact[];
  /** Every directory of every store, measured and classified, by id. */
  dirs: Map<string, DirFact>;
  /** Path indexes of image layers and containers' writable layers, by directory id. */
  indexes: Map<string, LayerIndex>;
  /** BuildKit's own store (`<root>/buildkit`: content blobs, its databases). */
  buildkitStore: Bytes;
  /** Everything else under the docker root: what no other figure holds. */
  other: Bytes;
  api: ApiFacts | null;
  /** No docker root was found (containerd alone): the API was not asked. */
  dockerAbsent?: boolean;
  /** daemon.json's default log driver and options (absent or null: none said, json-file without limit). */
  daemonLog?: LogConfigFact | null;
  /** The agent's previous scan: each container's log bytes then, for the log audit's growth. */
  previousLogs?: PreviousLogs;
  errors: ScanError[];
  scan: ScanMeta;
  /** `--owner.label` keys: each distinct value of each is an owner (absent: none). */
  ownerLabels?: string[];
  /** What removing each object also frees (its records), by `layer:`, `image:`, `container:`, `volume:` key. */
  records?: ReadonlyMap<string, Bytes>;
  /** BuildKit's hold on image layers (classic store): which directory became which layer, and every layer it holds. */
  buildCacheChains?: { dirs: ReadonlyMap<string, string>; held: ReadonlySet<string> };
  /** What else holds image units: BuildKit's records and build history (containerd store). */
  holds?: HoldFact[];
  /** Waste figures already worked out, by waste job key (see wasteJobs); the rest is computed. */
  waste?: ReadonlyMap<string, Bytes>;
  /** Copy-up figures already worked out, by container id (see copyUpJobs); the rest is computed. */
  copiedUp?: ReadonlyMap<string, Bytes>;
}
