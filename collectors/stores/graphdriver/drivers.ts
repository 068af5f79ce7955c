// Every storage driver of the classic store, in one table: where it keeps its layer directories,
// which entries there are its own bookkeeping, the daemon's preference among them, and how
// layerdu measures its layers (null: detected and named, not measured yet).
import { join } from 'node:path';
import type { EntrySemantics } from '../../walk/semantics.js';

export interface DriverLayout {
  name: string;
  /** The directory of its layers, under the docker root. */
  dir: string[];
  /** Entries of that directory that are no layer (overlay2: short symlinks in `l/`, a quota probe node). */
  bookkeeping: string[];
  measured: {
    /** The tree that holds a layer's own files (overlay2: `<id>/diff`). */
    content(base: string, id: string): string;
    /** overlay: a layer holds its changes only (whiteouts, opaque dirs); plain: a full copy. */
    entries: EntrySemantics;
    /** The daemon makes the layer directory with the first layer: a fresh store has none. */
    madeWithFirstLayer?: boolean;
  } | null;
}

/** In the daemon's own order of preference, which breaks ties between drivers found on disk. */
export const DRIVERS: readonly DriverLayout[] = [
  { name: 'overlay2', dir: ['overlay2'], bookkeeping: ['l', 'backingFsBlockDev'], measured: { content: (base, id) => join(base, id, 'diff'), entries: 'overlay' } },
  { name: 'fuse-overlayfs', dir: ['fuse-overlayfs'], bookkeeping: ['l'], measured: null },
  { name: 'btrfs', dir: ['btrfs', 'subvolumes'], bookkeeping: [], measured: null },
  { name: 'zfs', dir: ['zfs', 'graph'], bookkeeping: [], measured: null },
  { name: 'devicemapper', dir: ['devicemapper', 'mnt'], bookkeeping: [], measured: null },
  // `vfs/dir/<id>` is a FULL COPY of its parent plus its own changes, for image layers and
  // containers' `-init` and writable layers alike; `vfs/backingFsBlockDev` beside `dir/` is the
  // quota probe. Its disk bytes are what it really costs.
  { name: 'vfs', dir: ['vfs', 'dir'], bookkeeping: [], measured: { content: (base, id) => join(base, id), entries: 'plain', madeWithFirstLayer: true } },
  { name: 'aufs', dir: ['aufs', 'diff'], bookkeeping: [], measured: null },
  { name: 'overlay', dir: ['overlay'], bookkeeping: [], measured: null },
];

export function driverLayout(name: string): DriverLayout | undefined {
  return DRIVERS.find((d) => d.name === name);
}

/** The drivers whose layers layerdu measures, for a person: "overlay2 and vfs". */
export function measuredDrivers(): string {
  const names = DRIVERS.filter((d) => d.measured).map((d) => d.name);
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}` : (names[0] ?? 'none');
}
