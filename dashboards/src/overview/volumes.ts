// The overview's row for what lies beside images and containers: volumes, build cache and
// orphaned layer directories.
import { query, sel, type Board } from '../lib.js';
import { barGaugePanel, tablePanel, timeseriesPanel } from '../panels.js';
import { TOP } from './top.js';

export function volumesRow(b: Board): void {
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
}
