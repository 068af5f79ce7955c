// The overview's Owners row: compose projects and `--owner.label` values, by what removing one
// would free and by each scope (writable, logs, volumes, images exclusive and shared).
import { query, sel, type Board } from '../lib.js';
import { barGaugePanel, tablePanel } from '../panels.js';
import { TOP } from './top.js';

export function ownersRow(b: Board): void {
  b.row('Owners');
  b.add(
    barGaugePanel({
      title: 'Owners by what removing them frees',
      description:
        "Compose projects and --owner.label values: their containers' writable and log bytes, the volumes only they mount and the image units only their images hold. Shared image units are left out: removing the owner would not free them.",
      width: 12,
      height: 9,
      unit: 'bytes',
      targets: [
        query('A', `topk(${TOP}, sum by (instance, kind, name) (${sel('layerdu_owner_bytes', 'scope!="images_shared"')}))`, {
          legend: '{{kind}} {{name}} {{instance}}',
          instant: true,
        }),
      ],
    }),
  );
  b.add(
    tablePanel({
      title: 'Top owners by scope',
      description:
        'The biggest owners in each scope: writable (container layers, -init included), logs, volumes (only the owner mounts them), images_exclusive (what removing its containers and the images only they run frees), images_shared (the rest of the images it runs).',
      width: 12,
      height: 9,
      targets: [query('A', `topk by (scope) (${TOP}, ${sel('layerdu_owner_bytes')} > 0)`, { instant: true, table: true })],
      columns: { instance: 'Host', kind: 'Kind', name: 'Owner', scope: 'Scope', Value: 'Bytes' },
      units: { Value: 'bytes' },
      sortBy: 'Bytes',
    }),
  );
}
