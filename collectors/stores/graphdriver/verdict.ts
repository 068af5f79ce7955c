// Storage-driver truth: which driver the classic store under the docker root uses, what the
// filesystem under it can do, and, when it is vfs, why and what that costs. Pure functions of
// facts; the reading is in ./detect.ts (the disk), host/dtype.ts (d_type) and the Docker API.
import type { DTypeProbe } from '../../host/dtype.js';
import type { Bytes, DriverFact, LayerFact, MountFact } from '../../lib/facts.js';
import { DRIVERS, measuredDrivers } from './drivers.js';

/** One `image/<driver>/` found under the root. */
export interface DriverCandidate {
  name: string;
  /** Newest mtime of its repositories.json and layerdb; null when it has neither. */
  metadataMtimeMs: number | null;
  /** Entries of the driver's layer directory (overlay2: `overlay2/` less `l`; vfs: `vfs/dir/`); null when missing. */
  layerDirEntries: number | null;
}

export interface DriverEvidence {
  /** Every `image/<driver>/` on disk; null when `image/` could not be read. */
  candidates: DriverCandidate[] | null;
  /** GET /info `Driver` and `DriverStatus`, when the API answered. */
  apiDriver: string | null;
  apiStatus: Array<[string, string]>;
  /** An explicit `"storage-driver"` in daemon.json that applies to this root. */
  configured: { driver: string; path: string } | null;
  /** `overlay` in /proc/filesystems; null when unreadable. */
  overlayAvailable: boolean | null;
  /** The d_type probe of the filesystem under the root. */
  probe: DTypeProbe | null;
}

export interface DriverChoice {
  name: string | null;
  /** What decided: the disk, the API (the disk had no `image/<driver>/`), daemon.json, or nothing. */
  source: 'disk' | 'api' | 'daemon.json' | 'none';
}

// The daemon's own preference, used only to break ties.
const rank = (name: string) => {
  const i = DRIVERS.findIndex((d) => d.name === name);
  return i < 0 ? DRIVERS.length : i;
};

/**
 * The driver in use. The disk wins: among the `image/<driver>/` directories (Docker keeps those of
 * earlier drivers), the one whose layer directory has entries and whose metadata is newest. The
 * API's driver, then daemon.json's, break exact ties and answer when the disk has nothing.
 */
export function chooseDriver(e: Pick<DriverEvidence, 'candidates' | 'apiDriver' | 'configured'>): DriverChoice {
  const hinted = (name: string) => (name === e.apiDriver ? 2 : 0) + (name === e.configured?.driver ? 1 : 0);
  const sorted = [...(e.candidates ?? [])].sort(
    (a, b) =>
      Number((b.layerDirEntries ?? 0) > 0) - Number((a.layerDirEntries ?? 0) > 0) ||
      (b.metadataMtimeMs ?? -1) - (a.metadataMtimeMs ?? -1) ||
      hinted(b.name) - hinted(a.name) ||
      rank(a.name) - rank(b.name) ||
      a.name.localeCompare(b.name),
  );
  const best = sorted[0];
  if (best) return { name: best.name, source: 'disk' };
  if (e.apiDriver) return { name: e.apiDriver, source: 'api' };
  if (e.configured) return { name: e.configured.driver, source: 'daemon.json' };
  return { name: null, source: 'none' };
}

/** Where the filesystem is, for a person: "ext4 on /dev/loop3 (mounted at /tmp/x)". */
function whereFs(p: DTypeProbe | null, backingFs: string | null): string {
  const fs = p?.fstype ?? backingFs ?? 'the filesystem';
  const dev = p?.device ? ` on ${p.device}` : '';
  const at = p?.mountpoint ? ` (mounted at ${p.mountpoint})` : '';
  return `${fs}${dev}${at}`;
}

function missingFeature(fstype: string | null): string {
  if (fstype?.startsWith('ext')) return 'the filetype feature';
  if (fstype === 'xfs') return 'ftype=1';
  return 'file types in directory entries';
}

function howProbed(p: DTypeProbe | null, fromApi: boolean): string {
  if (fromApi) return 'as the Docker API\'s "Supports d_type" says';
  if (p?.method === 'superblock') return 'read from its superblock';
  if (p?.method === 'readdir') return 'seen by listing the docker root';
  return 'not probed';
}

const NOT_DIFFS =
  'Waste and copy-up are not measured on vfs (every layer is a full copy, not a diff) and show as 0.';

/**
 * The driver block of the report (`vfsDuplicateBytes` is added by the model, from the walks).
 * `measured` says whether layerdu measures the driver's layers.
 */
export function driverVerdict(e: DriverEvidence, name: string | null, measured: boolean): DriverFact {
  const status = new Map(e.apiStatus);
  const apiDType = status.get('Supports d_type');
  const probed = e.probe?.dType ?? null;
  const dTypeFromApi = probed === null && (apiDType === 'true' || apiDType === 'false');
  const dType = probed !== null ? probed : apiDType === 'true' ? true : apiDType === 'false' ? false : null;
  const backingFs = e.probe?.fstype ?? status.get('Backing Filesystem') ?? null;
  const driver = name ?? 'unknown';
  const where = whereFs(e.probe, backingFs);
  const sentences: string[] = [];

  let vfsFallback = false;
  if (driver === 'vfs') {
    if (e.configured?.driver === 'vfs') {
      sentences.push(`vfs was chosen on purpose ("storage-driver": "vfs" in ${e.configured.path}), so this is no fallback.`);
    } else if (e.overlayAvailable === true) {
      vfsFallback = true;
      if (dType === false) {
        sentences.push(
          `${where} lacks d_type (${missingFeature(backingFs)}; ${howProbed(e.probe, dTypeFromApi)}), ` +
            'so overlay2 refused it and the daemon fell back to vfs.',
        );
      } else if (dType === true) {
        sentences.push(
          `Overlay is available and ${where} has d_type, yet the daemon runs vfs: ` +
            'probably --storage-driver=vfs on its command line, or overlay2 failed to start (see the daemon log).',
        );
      } else {
        sentences.push(
          `Overlay is available but the daemon runs vfs; whether ${where} has d_type could not be told` +
            `${e.probe?.note ? ` (${e.probe.note})` : ''}.`,
        );
      }
    } else if (e.overlayAvailable === false) {
      sentences.push('The kernel offers no overlay filesystem (not in /proc/filesystems), so the daemon runs vfs.');
    } else {
      sentences.push('The daemon runs vfs; whether the kernel offers overlay could not be read (/proc/filesystems).');
    }
    sentences.push(NOT_DIFFS);
  } else if (!measured) {
    sentences.push(
      `Storage driver ${driver} is detected but its layers are not measured (layerdu measures ${measuredDrivers()}): ` +
        'image, layer, container-layer, build-cache, orphan, waste and copy-up figures show as 0; volumes and logs are measured.',
    );
  } else if (dType === false) {
    sentences.push(
      `${where} lacks d_type (${missingFeature(backingFs)}): ${driver} runs on it only because the store predates the check, ` +
        'and overlayfs may misbehave.',
    );
  }

  if (name && e.apiDriver && e.apiDriver !== name) {
    sentences.push(`The Docker API reports ${e.apiDriver}, but the disk shows ${name} in use; the disk is believed.`);
  }
  if (name && e.configured && e.configured.driver !== name && e.configured.driver !== e.apiDriver) {
    sentences.push(`${e.configured.path} asks for ${e.configured.driver}, but the disk shows ${name} in use.`);
  }

  // Sentences that open with a name (ext4, vfs, overlay) keep it lower-case, as it is spelt.
  return { name: driver, store: 'graphdriver', backingFs, dType, vfsFallback, reason: sentences.join(' ') };
}

/**
 * Bytes vfs stores beyond what overlay2 would: the vfs directories' disk bytes less what each layer
 * changes. For image layers that is Docker's layerdb `size` (the apparent size of the layer's own
 * changes). Containers' `-init` and writable layers have no recorded size: each is a full copy of
 * its parent plus its changes, so the copy of the parent (at most the dir itself) is the duplicate.
 * Layers without a layerdb size or without a measured directory are left out.
 */
export function vfsDuplicateBytes(
  layers: LayerFact[],
  mounts: MountFact[],
  dirs: ReadonlyMap<string, { bytes: Bytes }>,
): number {
  const disk = (id: string | null | undefined) => (id ? dirs.get(id)?.bytes.disk : undefined);
  let dup = 0;
  for (const l of layers) {
    const d = disk(l.cacheId);
    if (d !== undefined && l.size !== null) dup += d - l.size;
  }
  const cacheOfChain = new Map(layers.map((l) => [l.chainId, l.cacheId]));
  for (const m of mounts) {
    const top = disk(m.parent ? cacheOfChain.get(m.parent) : null) ?? 0;
    const init = disk(m.initId);
    if (init !== undefined) dup += Math.min(init, top);
    const rw = disk(m.mountId);
    if (rw !== undefined) dup += Math.min(rw, init ?? top);
  }
  return Math.max(0, dup);
}
