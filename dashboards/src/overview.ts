// The overview dashboard: where the disk went on one Docker host or a fleet of them.
import { DashboardLinkBuilder, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { IMAGE_UID } from './image.js';
import { Board, query, sel } from './lib.js';
import { barGaugePanel, boolMapping, statPanel, statusHistoryPanel, tablePanel, timeseriesPanel } from './panels.js';

export const OVERVIEW_UID = 'layerdu-overview';

/** Docker root free space in 24 h, extrapolated from the last 6 h (as the alert rule does). */
export const FORECAST = `predict_linear(${sel('layerdu_filesystem_avail_bytes')}[6h], 86400)`;

const TOP = 15;

/** A data link from a bar of an image-labelled series to the image drill-down. */
const toImage = () =>
  new DashboardLinkBuilder('Layers and sharing of ${__field.labels.image}').url(
    `/d/${IMAGE_UID}?var-image=\${__field.labels.image:percentencode}&var-instance=\${__field.labels.instance:percentencode}&\${datasource:queryparam}&\${__url_time_range}`,
  );
const HOST_TOTAL = `sum by (instance) (${sel('layerdu_host_bytes')})`;
const LAYERS_HELD = `sum by (instance) (${sel('layerdu_host_bytes', 'category=~"image_layers|container_layers"')})`;

export function overview(): Dashboard {
  const b = new Board(
    OVERVIEW_UID,
    'layerdu: Docker disk usage',
    'Where the disk went on Docker hosts: true bytes of image layers (shared and unique), containers, logs, volumes, build cache and orphaned layer directories, each byte counted once. From the layerdu exporter.',
  );

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

  b.row('Images');
  b.add(
    barGaugePanel({
      title: 'Top images by unique bytes',
      description: "Bytes only this image holds: what removing it alone would free. Open the image drill-down from the dashboard links for its layers.",
      width: 8,
      height: 10,
      unit: 'bytes',
      targets: [
        query('A', `topk(${TOP}, sum by (instance, image_id, image) (${sel('layerdu_image_bytes', 'scope="unique"')}))`, {
          legend: '{{image}} {{instance}}',
          instant: true,
        }),
      ],
    }).dataLinks([toImage()]),
  );
  b.add(
    timeseriesPanel({
      title: 'Image layers: shared against unique',
      description:
        'Bytes of layers that two or more images hold (each layer once) against bytes that belong to one image only. Together they are the image layers of listed images.',
      width: 8,
      height: 10,
      unit: 'bytes',
      stack: true,
      targets: [
        query(
          'A',
          `sum by (instance) (${sel('layerdu_layer_bytes')} and on (instance, chain_id) ${sel('layerdu_layer_images')} > 1)`,
          { legend: 'shared layers {{instance}}' },
        ),
        query('B', `sum by (instance) (${sel('layerdu_image_bytes', 'scope="unique"')})`, { legend: 'unique to one image {{instance}}' }),
      ],
    }),
  );
  b.add(
    barGaugePanel({
      title: 'Wasted bytes by image',
      description: 'Files in lower layers that upper layers delete or overwrite: they still cost disk (e.g. COPY then RUN rm). Counted once.',
      width: 8,
      height: 10,
      unit: 'bytes',
      targets: [
        query('A', `topk(${TOP}, ${sel('layerdu_wasted_bytes')} > 0)`, { legend: '{{image}} {{instance}}', instant: true }),
      ],
    }).dataLinks([toImage()]),
  );
  b.add(
    tablePanel({
      title: 'Images',
      description: 'Every listed image: bytes only it holds, bytes it shares with other images, and wasted bytes (disk bytes).',
      width: 24,
      height: 9,
      targets: [
        query('A', `sum by (instance, image_id, image) (${sel('layerdu_image_bytes', 'scope="unique"')})`, { instant: true, table: true }),
        query('B', `sum by (instance, image_id, image) (${sel('layerdu_image_bytes', 'scope="shared"')})`, { instant: true, table: true }),
        query('C', `sum by (instance, image_id, image) (${sel('layerdu_wasted_bytes')})`, { instant: true, table: true }),
      ],
      columns: {
        instance: 'Host',
        image: 'Image',
        'Value #A': 'Unique',
        'Value #B': 'Shared',
        'Value #C': 'Wasted',
        image_id: 'Image ID',
      },
      units: { 'Value #A': 'bytes', 'Value #B': 'bytes', 'Value #C': 'bytes' },
      sortBy: 'Unique',
    }),
  );

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

  b.row('Volumes, build cache and orphans');
  b.add(
    barGaugePanel({
      title: 'Volumes',
      description: 'Named volumes by disk bytes.',
      width: 8,
      height: 9,
      unit: 'bytes',
      targets: [query('A', `topk(${TOP}, ${sel('layerdu_volume_bytes')})`, { legend: '{{name}} {{instance}}', instant: true })],
    }),
  );
  b.add(
    timeseriesPanel({
      title: 'Build cache',
      description: "BuildKit's cache (snapshots no image layer uses), reclaimable with docker builder prune.",
      width: 8,
      height: 9,
      unit: 'bytes',
      targets: [query('A', sel('layerdu_host_bytes', 'category="build_cache"'), { legend: '{{instance}}' })],
    }),
  );
  b.add(
    tablePanel({
      title: 'Orphaned layer directories',
      description:
        'Directories under <docker-root>/<driver>/ that no image layer, container or build-cache record refers to: usually left by a crash or a failed build. layerdu never deletes anything.',
      width: 8,
      height: 9,
      targets: [query('A', sel('layerdu_orphan_bytes'), { instant: true, table: true })],
      columns: { instance: 'Host', id: 'Directory', Value: 'Bytes' },
      units: { Value: 'bytes' },
      sortBy: 'Bytes',
    }),
  );

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

  b.row('Scan health');
  b.add(
    statPanel({
      title: 'Last scan',
      description: 'Seconds since the last finished scan (scans run on --scan.schedule, every 5 minutes by default).',
      width: 4,
      height: 5,
      unit: 's',
      steps: [
        { value: null, color: 'green' },
        { value: 900, color: 'orange' },
        { value: 3600, color: 'red' },
      ],
      targets: [query('A', `time() - ${sel('layerdu_last_scan_timestamp_seconds')}`, { legend: '{{instance}}', instant: true })],
    }),
  );
  b.add(
    statPanel({
      title: 'Scan success',
      description: 'Whether the last scan finished without any problem (see problems by collector).',
      width: 4,
      height: 5,
      unit: 'none',
      mappings: boolMapping(1, 'ok', 'FAILED'),
      targets: [query('A', sel('layerdu_scan_success'), { legend: '{{instance}}' })],
    }),
  );
  b.add(
    statPanel({
      title: 'Docker API',
      description: 'Whether the Docker API answered in the last scan. layerdu goes on from disk alone when it does not.',
      width: 4,
      height: 5,
      unit: 'none',
      mappings: boolMapping(1, 'up', 'DOWN'),
      targets: [query('A', sel('layerdu_docker_api_up'), { legend: '{{instance}}' })],
    }),
  );
  b.add(
    timeseriesPanel({
      title: 'Scan duration',
      description: 'Wall time of the last finished scan.',
      width: 6,
      height: 5,
      unit: 's',
      targets: [query('A', sel('layerdu_scan_duration_seconds'), { legend: '{{instance}}' })],
    }),
  );
  b.add(
    timeseriesPanel({
      title: 'Layers walked and reused',
      description: 'Image layers walked in the last scan, and those whose earlier walk was reused (committed layers never change).',
      width: 6,
      height: 5,
      unit: 'short',
      targets: [
        query('A', sel('layerdu_scan_layers_walked'), { legend: 'walked {{instance}}' }),
        query('B', sel('layerdu_scan_layers_reused'), { legend: 'reused {{instance}}' }),
      ],
    }),
  );
  b.add(
    statusHistoryPanel({
      title: 'Collector success',
      description: 'Whether each collector finished without a problem, scan by scan.',
      width: 8,
      height: 8,
      mappings: boolMapping(1, 'ok', 'failed'),
      targets: [query('A', sel('layerdu_collector_success'), { legend: '{{collector}} {{instance}}' })],
    }),
  );
  b.add(
    timeseriesPanel({
      title: 'Collector duration',
      description: 'How long each collector took in the last scan.',
      width: 8,
      height: 8,
      unit: 's',
      targets: [query('A', sel('layerdu_collector_duration_seconds'), { legend: '{{collector}} {{instance}}' })],
    }),
  );
  b.add(
    timeseriesPanel({
      title: 'Problems by collector',
      description: 'Problems met in the last scan (an unreadable file, corrupt metadata, a hung API…); the scan went on past each. Details are on the agent\'s stderr.',
      width: 8,
      height: 8,
      unit: 'short',
      targets: [query('A', sel('layerdu_scan_errors'), { legend: '{{collector}} {{instance}}' })],
    }),
  );

  return b.build();
}
