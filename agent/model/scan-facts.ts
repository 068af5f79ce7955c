// Everything one scan learned, as plain data: the input of buildReport().
import type { FilesystemUsage } from '../../collectors/host/filesystem.js';
import type { ScanMeta } from './report.js';
import type {
  ApiFacts, Bytes, ContainerFact, DriverFact, ImageFact, LayerFact, LayerIndex, MountFact, ScanError, VolumeFact,
} from '../../collectors/lib/facts.js';

export interface DirFact {
  id: string;
  /** The tree that was measured: a layer's content (overlay2 `diff/`), or the whole directory. */
  path: string;
  bytes: Bytes;
}

export interface ScanFacts {
  dockerRoot: string;
  driver: DriverFact;
  filesystem: FilesystemUsage | null;
  /** The storage driver's own directory (`<root>/overlay2`), where orphans live. */
  driverBase: string;
  images: ImageFact[];
  layers: LayerFact[];
  mounts: MountFact[];
  containers: ContainerFact[];
  volumes: VolumeFact[];
  /** Every directory under the driver's base, measured, by id. */
  dirs: Map<string, DirFact>;
  /** Path indexes of image layers and containers' writable layers, by directory id. */
  indexes: Map<string, LayerIndex>;
  buildCacheIds: Set<string>;
  /** BuildKit's own store (`<root>/buildkit`: content blobs, its databases). */
  buildkitStore: Bytes;
  /** Everything else under the docker root: what no other figure holds. */
  other: Bytes;
  api: ApiFacts | null;
  errors: ScanError[];
  scan: ScanMeta;
  /** Waste figures of the last scan by image and layer directories; this scan fills `next`. */
  wasteMemo?: { previous: ReadonlyMap<string, Bytes>; next: Map<string, Bytes> };
}
