// The overview's first two rows: how much the docker root holds, of what, against what naive
// sums claim, and how soon its filesystem fills up.
import { query, sel, type Board } from '../lib.js';
import { barGaugePanel, statPanel, timeseriesPanel } from '../panels.js';
import { TOP } from './top.js';

/** Docker root free space in 24 h, extrapolated from the last 6 h (as the alert rule does). */
export const FORECAST = `predict_linear(${sel('layerdu_filesystem_avail_bytes')}[6h], 86400)`;

const HOST_TOTAL = `sum by (instance) (${sel('layerdu_host_bytes')})`;
const LAYERS_HELD = `sum by (instance) (${sel('layerdu_host_bytes', 'category=~"image_layers|container_layers"')})`;

export function whereTheDiskWentRow(b: Board): void {
  b.row('Where the disk went');
  b.add(
    statPanel({
      title: 'Docker disk use',
      description: 'Every byte under the docker root counted once: image and container layers, volumes, logs, build cache and orphans.',
      width: 4,
      height: 4,
      unit: 'bytes',
      graph: true,
      targets: [query('A', HOST_TOTAL, { legend: '{{instance}}' })],
    }),
  );
  b.add(
    statPanel({
      title: 'Naive virtual sum',
      description: "What adding up every image's and every container's virtual size (docker images, docker ps -s) claims.",
      width: 4,
      height: 4,
      unit: 'bytes',
      targets: [query('A', sel('layerdu_naive_virtual_bytes'), { legend: '{{instance}}' })],
    }),
  );
  b.add(
    statPanel({
      title: 'Sharing saves',
      description: 'The naive virtual sum less what image and container layers really hold on disk: what layer sharing saves.',
      width: 4,
      height: 4,
      unit: 'bytes',
      targets: [query('A', `${sel('layerdu_naive_virtual_bytes')} - on (instance) ${LAYERS_HELD}`, { legend: '{{instance}}' })],
    }),
  );
  b.add(
    statPanel({
      title: 'Docker root free',
      description: 'Bytes available to unprivileged users on the filesystem holding the docker root.',
      width: 4,
      height: 4,
      unit: 'bytes',
      graph: true,
      targets: [query('A', sel('layerdu_filesystem_avail_bytes'), { legend: '{{instance}} {{mountpoint}}' })],
    }),
  );
  b.add(
    statPanel({
      title: 'Docker root used',
      description: 'Share of the filesystem holding the docker root that is no longer available.',
      width: 4,
      height: 4,
      unit: 'percentunit',
      decimals: 1,
      steps: [
        { value: null, color: 'green' },
        { value: 0.8, color: 'orange' },
        { value: 0.9, color: 'red' },
      ],
      targets: [
        query('A', `1 - ${sel('layerdu_filesystem_avail_bytes')} / ${sel('layerdu_filesystem_size_bytes')}`, {
          legend: '{{instance}} {{mountpoint}}',
        }),
      ],
    }),
  );
  b.add(
    statPanel({
      title: 'Free in 24 h (forecast)',
      description: 'predict_linear over the last 6 h of free space on the docker root filesystem: 0 means it fills up within a day.',
      width: 4,
      height: 4,
      unit: 'bytes',
      steps: [
        { value: null, color: 'red' },
        { value: 1, color: 'green' },
      ],
      targets: [query('A', `clamp_min(${FORECAST}, 0)`, { legend: '{{instance}} {{mountpoint}}' })],
    }),
  );
  b.add(
    timeseriesPanel({
      title: 'True disk use by category',
      description: 'Bytes under the docker root by category, stacked; each byte is counted once, however many images or containers share it.',
      width: 12,
      height: 9,
      unit: 'bytes',
      stack: true,
      targets: [query('A', `sum by (category) (${sel('layerdu_host_bytes')})`, { legend: '{{category}}' })],
    }),
  );
  b.add(
    timeseriesPanel({
      title: 'True bytes against the naive virtual sum',
      description:
        'Image and container layers as they sit on disk (each layer once) against the sum of virtual sizes, which counts every shared layer once per image and container. The gap is what sharing saves.',
      width: 12,
      height: 9,
      unit: 'bytes',
      targets: [
        query('A', `sum(${sel('layerdu_naive_virtual_bytes')})`, { legend: 'naive: virtual sizes added up' }),
        query('B', `sum(${sel('layerdu_host_bytes', 'category=~"image_layers|container_layers"')})`, {
          legend: 'true: image and container layers on disk',
        }),
      ],
    }),
  );
}

export function rootFilesystemRow(b: Board): void {
  b.row('Docker root filesystem');
  b.add(
    timeseriesPanel({
      title: 'Docker root filesystem: size, free space and forecast',
      description: 'Size and free space of the filesystem holding the docker root, and the free space predict_linear expects in 24 h from the last 6 h.',
      width: 16,
      height: 8,
      unit: 'bytes',
      fill: 0,
      targets: [
        query('A', sel('layerdu_filesystem_size_bytes'), { legend: 'size {{instance}} {{mountpoint}}' }),
        query('B', sel('layerdu_filesystem_avail_bytes'), { legend: 'free {{instance}} {{mountpoint}}' }),
        query('C', FORECAST, { legend: 'free in 24 h (forecast) {{instance}} {{mountpoint}}' }),
      ],
    }).overrideByQuery('C', [{ id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }]),
  );
  b.add(
    barGaugePanel({
      title: 'Docker root used, by host',
      description: 'The fullest docker root filesystems first.',
      width: 8,
      height: 8,
      unit: 'percentunit',
      targets: [
        query('A', `topk(${TOP}, 1 - ${sel('layerdu_filesystem_avail_bytes')} / ${sel('layerdu_filesystem_size_bytes')})`, {
          legend: '{{instance}} {{mountpoint}}',
          instant: true,
        }),
      ],
    }).max(1),
  );
}
