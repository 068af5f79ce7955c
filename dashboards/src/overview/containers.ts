// The overview's Containers row: what containers wrote, what copy-up cost them, and their logs.
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
}
