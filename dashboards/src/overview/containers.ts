// The overview's Containers row: what containers wrote, what copy-up cost them, their logs, and
// the logs that nothing bounds (json-file without max-size).
import { query, sel, type Board } from '../lib.js';
import { barGaugePanel } from '../panels.js';
import { TOP } from './top.js';

export function containersRow(b: Board): void {
  b.row('Containers');
  b.add(
    barGaugePanel({
      title: 'Containers by writable-layer bytes',
      description: "Bytes each container wrote into its writable layer (docker ps -s SIZE, on the disk basis).",
      width: 8,
      height: 9,
      unit: 'bytes',
      targets: [
        query('A', `topk(${TOP}, ${sel('layerdu_container_bytes', 'scope="writable"')})`, { legend: '{{name}} {{instance}}', instant: true }),
      ],
    }),
  );
  b.add(
    barGaugePanel({
      title: 'Containers by copied-up bytes',
      description: 'Bytes in writable layers at paths the image already had: what overlayfs copy_up cost (a one-byte append to a 1 GiB file costs 1 GiB).',
      width: 8,
      height: 9,
      unit: 'bytes',
      targets: [
        query('A', `topk(${TOP}, ${sel('layerdu_container_copied_up_bytes')} > 0)`, { legend: '{{name}} {{instance}}', instant: true }),
      ],
    }),
  );
  b.add(
    barGaugePanel({
      title: 'Container logs',
      description: "Bytes of each container's json-file logs, rotated and compressed ones included.",
      width: 8,
      height: 9,
      unit: 'bytes',
      targets: [
        query('A', `topk(${TOP}, ${sel('layerdu_container_bytes', 'scope="logs"')} > 0)`, { legend: '{{name}} {{instance}}', instant: true }),
      ],
    }),
  );
  b.add(
    barGaugePanel({
      title: 'Logs without a size limit',
      description:
        'Log bytes of the containers whose json-file logs have no max-size: Docker never rotates them. Set log-opts max-size in daemon.json (new containers only) and recreate these; the LayerduLogGrowingWithoutLimit alert fires when one grows fast.',
      width: 12,
      height: 9,
      unit: 'bytes',
      targets: [
        query('A', `topk(${TOP}, ${sel('layerdu_container_bytes', 'scope="logs"')} and on (instance, container_id) ${sel('layerdu_container_log_unbounded')})`, {
          legend: '{{name}} {{instance}}',
          instant: true,
        }),
      ],
    }),
  );
  b.add(
    barGaugePanel({
      title: 'Unbounded logs: growth',
      description: "How fast each log without a size limit grew between the agent's last two scans, in bytes a second.",
      width: 12,
      height: 9,
      unit: 'binBps',
      targets: [
        query('A', `topk(${TOP}, ${sel('layerdu_container_log_growth_bytes_per_second')})`, { legend: '{{name}} {{instance}}', instant: true }),
      ],
    }),
  );
}
