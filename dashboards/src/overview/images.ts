// The overview's Images row: which images hold the most bytes of their own, what sharing
// spares, and what deleted or overwritten files still cost.
import { DashboardLinkBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { IMAGE_UID } from '../image.js';
import { query, sel, type Board } from '../lib.js';
import { barGaugePanel, tablePanel, timeseriesPanel } from '../panels.js';
import { TOP } from './top.js';

/** A data link from a bar of an image-labelled series to the image drill-down. */
const toImage = () =>
  new DashboardLinkBuilder('Layers and sharing of ${__field.labels.image}').url(
    `/d/${IMAGE_UID}?var-image=\${__field.labels.image:percentencode}&var-instance=\${__field.labels.instance:percentencode}&\${datasource:queryparam}&\${__url_time_range}`,
  );

export function imagesRow(b: Board): void {
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
}
