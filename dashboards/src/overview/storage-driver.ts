// The overview's Storage driver row: the driver and filesystem each host runs on, and the setups
// that stop overlay2 (no d_type) or copy every layer in full (a fallback to vfs), and the host's
// OS and the device beneath the docker root.
import { query, sel, type Board } from '../lib.js';
import { boolMapping, statPanel, tablePanel } from '../panels.js';

export function storageDriverRow(b: Board): void {
  b.row('Storage driver');
  b.add(
    tablePanel({
      title: 'Storage driver',
      description: 'The storage driver the daemon uses, the filesystem under the docker root and the docker root itself.',
      width: 9,
      height: 6,
      targets: [query('A', sel('layerdu_storage_driver_info'), { instant: true, table: true })],
      columns: { instance: 'Host', driver: 'Driver', backing_fs: 'Backing filesystem', docker_root: 'Docker root' },
    }),
  );
  b.add(
    statPanel({
      title: 'd_type',
      description: 'Whether the filesystem under the docker root supports d_type (ext4 needs the filetype feature, xfs ftype=1). Without it overlay2 refuses to run.',
      width: 5,
      height: 6,
      unit: 'none',
      mappings: boolMapping(1, 'supported', 'MISSING'),
      noValue: 'unknown',
      targets: [query('A', sel('layerdu_dtype_supported'), { legend: '{{instance}}' })],
    }),
  );
  b.add(
    statPanel({
      title: 'vfs fallback',
      description: 'Whether the daemon fell back to the vfs driver although overlay is available: every layer is then a full copy.',
      width: 5,
      height: 6,
      unit: 'none',
      mappings: boolMapping(0, 'no', 'FALLBACK TO VFS'),
      targets: [query('A', sel('layerdu_vfs_fallback'), { legend: '{{instance}}' })],
    }),
  );
  b.add(
    statPanel({
      title: 'vfs duplicate bytes',
      description: 'Bytes vfs stores beyond what overlay2 would (the full copies); 0 on overlay2.',
      width: 5,
      height: 6,
      unit: 'bytes',
      targets: [query('A', sel('layerdu_vfs_duplicate_bytes'), { legend: '{{instance}}' })],
    }),
  );
  b.add(hostInfoTable(24, 5));
}

/** layerdu_host_info as a table: each host's OS, kernel and docker root device (the fleet's too). */
export function hostInfoTable(width: number, height: number): ReturnType<typeof tablePanel> {
  return tablePanel({
    title: 'OS, kernel and docker root device',
    description: "Each host's distribution and kernel, and the device under its docker root: nvme, ssd, hdd (spinning), virtual (a VM's disk) or unknown. Walks use more finds at once on flash, fewer on a spinning disk.",
    width,
    height,
    targets: [query('A', sel('layerdu_host_info'), { instant: true, table: true })],
    columns: { instance: 'Host', os: 'OS', kernel: 'Kernel', device_type: 'Device type', device: 'Device' },
    sortBy: 'Host',
    ascending: true,
  });
}
