// Everything one scan learned, as plain data: the input of buildReport(). Nothing here names a
// store's layout: directories are measured and classified by their store before they get here.
import type {
  ApiFacts, Bytes, ContainerFact, DirFact, DriverFact, FilesystemUsage, ImageFact, LayerFact, LayerIndex, MountFact,
  ScanError, VolumeFact,
} from '../../collectors/lib/facts.js';
import type { ScanMeta } from './report.js';

export type { DirFact } from '../../collectors/lib/facts.js';

export interface ScanFacts {
  dockerRoot: string;
  /** The driver block, its store's verdict (with `vfsDuplicateBytes` on vfs). */
  driver: DriverFact;
  filesystem: FilesystemUsage | null;
  images: ImageFact[];
  layers: LayerFact[];
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
  errors: ScanError[];
  scan: ScanMeta;
  /** Waste figures already worked out, by waste job key (see wasteJobs); the rest is computed. */
  waste?: ReadonlyMap<string, Bytes>;
}
