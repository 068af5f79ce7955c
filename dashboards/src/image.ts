// The per-image drill-down: one image's layers through the sharing graph
// (layerdu_image_layer_info joined to layerdu_layer_bytes and layerdu_layer_images), the images
// it shares them with, and its containers.
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { Board, DATASOURCE, query, sel } from './lib.js';
import { barGaugePanel, statPanel, tablePanel, timeseriesPanel } from './panels.js';

export const IMAGE_UID = 'layerdu-image';

const IMAGE = 'image="$image"';

/** instance, image_id (value 1) of the selected image. */
const SELECTED = `group by (instance, image_id) (${sel('layerdu_image_bytes', IMAGE)})`;

/** The selected image's edges of the sharing graph: one series per layer (chain_id, position), value 1. */
export const EDGES = `(${sel('layerdu_image_layer_info')} * on (instance, image_id) group_left () ${SELECTED})`;

/** Disk bytes of each layer, once (cache_id dropped). */
const LAYER_BYTES = `max by (instance, chain_id) (${sel('layerdu_layer_bytes')})`;

/** Every listed image's edges, labelled with the image's name. */
const ALL_EDGES = `(${sel('layerdu_image_layer_info')} * on (instance, image_id) group_left (image) group by (instance, image_id, image) (${sel('layerdu_image_bytes')}))`;

/** Writable-layer series of the selected image's containers. */
const CONTAINERS = `(${sel('layerdu_container_bytes', 'scope="writable"')} * on (instance, image_id) group_left () ${SELECTED})`;

export function imageVariable(): dashboard.QueryVariableBuilder {
  const q = `label_values(${sel('layerdu_image_bytes')}, image)`;
  return new dashboard.QueryVariableBuilder('image')
    .label('Image')
    .description('A listed image, by its first tag (<none> for untagged ones)')
    .datasource(DATASOURCE)
    .query(q)
    .definition(q)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc)
    .multi(false)
    .includeAll(false);
}

export function imageDrillDown(): dashboard.Dashboard {
  const b = new Board(
    IMAGE_UID,
    'layerdu: image layers and sharing',
    "One image's layers through the sharing graph: the size of each layer, how many images hold it, which images it shares bytes with, and its containers. From the layerdu exporter.",
  );
  b.builder.withVariable(imageVariable());

  b.row('$image');
  b.add(
    statPanel({
      title: 'Unique bytes',
      description: 'Bytes of the layers only this image holds: what removing it alone would free.',
      width: 5,
      height: 4,
      unit: 'bytes',
      targets: [query('A', `sum by (instance, image_id) (${sel('layerdu_image_bytes', IMAGE, 'scope="unique"')})`, { legend: '{{instance}}' })],
    }),
  );
  b.add(
    statPanel({
      title: 'Shared bytes',
      description: 'Bytes of the layers another listed image holds too.',
      width: 5,
      height: 4,
      unit: 'bytes',
      targets: [query('A', `sum by (instance, image_id) (${sel('layerdu_image_bytes', IMAGE, 'scope="shared"')})`, { legend: '{{instance}}' })],
    }),
  );
  b.add(
    statPanel({
      title: 'Total bytes',
      description: 'Shared and unique together: the disk bytes of all its layers.',
      width: 5,
      height: 4,
      unit: 'bytes',
      targets: [query('A', `sum by (instance, image_id) (${sel('layerdu_image_bytes', IMAGE)})`, { legend: '{{instance}}' })],
    }),
  );
  b.add(
    statPanel({
      title: 'Wasted bytes',
      description: 'Files in its lower layers that its upper layers delete or overwrite.',
      width: 5,
      height: 4,
      unit: 'bytes',
      targets: [query('A', sel('layerdu_wasted_bytes', IMAGE), { legend: '{{instance}}' })],
    }),
  );
  b.add(
    statPanel({
      title: 'Containers',
      description: 'Containers created from this image, running or not.',
      width: 4,
      height: 4,
      unit: 'none',
      targets: [
        query('A', `count by (instance, image_id) (${CONTAINERS}) or 0 * ${SELECTED}`, { legend: '{{instance}}' }),
      ],
    }),
  );

  b.add(
    tablePanel({
      title: 'Layers, bottom first',
      description:
        'Each layer of the image (chain id, position 0 = bottom), its disk bytes and how many listed images hold it. A layer held by 2 or more images is shared; everything beneath it is shared too.',
      width: 14,
      height: 10,
      targets: [
        query('A', `${EDGES} * on (instance, chain_id) group_left () ${LAYER_BYTES}`, { instant: true, table: true }),
        query('B', `${EDGES} * on (instance, chain_id) group_left () ${sel('layerdu_layer_images')}`, { instant: true, table: true }),
      ],
      columns: { instance: 'Host', position: 'Position', chain_id: 'Chain ID', 'Value #A': 'Bytes', 'Value #B': 'Images holding it' },
      units: { 'Value #A': 'bytes', 'Value #B': 'none' },
      numeric: ['position'],
      sortBy: 'Position',
      ascending: true,
    }),
  );
  b.add(
    barGaugePanel({
      title: 'Layers by size',
      description: 'The largest layers of the image.',
      width: 10,
      height: 10,
      unit: 'bytes',
      targets: [
        query('A', `topk(20, ${EDGES} * on (instance, chain_id) group_left () ${LAYER_BYTES})`, {
          legend: '#{{position}} {{chain_id}}',
          instant: true,
        }),
      ],
    }),
  );

  b.add(
    tablePanel({
      title: 'Images sharing layers with $image',
      description: 'Other listed images holding some of the same layers, and the disk bytes of those common layers.',
      width: 12,
      height: 9,
      targets: [
        query(
          'A',
          `sum by (instance, image) ((${ALL_EDGES} * on (instance, chain_id) group_left () ${LAYER_BYTES}) and on (instance, chain_id) ${EDGES})` +
            ` unless on (instance, image) ${sel('layerdu_image_bytes', IMAGE)}`,
          { instant: true, table: true },
        ),
      ],
      columns: { instance: 'Host', image: 'Image', Value: 'Bytes in common' },
      units: { Value: 'bytes' },
      sortBy: 'Bytes in common',
    }),
  );
  b.add(
    tablePanel({
      title: 'Containers of $image',
      description: 'Writable-layer, copied-up and log bytes of the containers created from the image.',
      width: 12,
      height: 9,
      targets: [
        query('A', `sum by (instance, container_id, name) (${CONTAINERS})`, { instant: true, table: true }),
        query(
          'B',
          `sum by (instance, container_id, name) (${sel('layerdu_container_copied_up_bytes')} * on (instance, container_id) group_left () group by (instance, container_id) (${CONTAINERS}))`,
          { instant: true, table: true },
        ),
        query(
          'C',
          `sum by (instance, container_id, name) (${sel('layerdu_container_bytes', 'scope="logs"')} * on (instance, image_id) group_left () ${SELECTED})`,
          { instant: true, table: true },
        ),
      ],
      columns: { instance: 'Host', name: 'Container', 'Value #A': 'Writable', 'Value #B': 'Copied up', 'Value #C': 'Logs', container_id: 'Container ID' },
      units: { 'Value #A': 'bytes', 'Value #B': 'bytes', 'Value #C': 'bytes' },
      sortBy: 'Writable',
    }),
  );

  b.add(
    timeseriesPanel({
      title: '$image over time',
      description: 'Unique and shared disk bytes of the image, stacked.',
      width: 24,
      height: 8,
      unit: 'bytes',
      stack: true,
      targets: [query('A', `sum by (instance, scope) (${sel('layerdu_image_bytes', IMAGE)})`, { legend: '{{scope}} {{instance}}' })],
    }),
  );

  return b.build();
}
