// The overview's row for image stores: Docker 29 keeps images in containerd, with the compressed
// blobs beside the unpacked snapshots; a host that switched store keeps the old one, hidden.
import { query, sel, type Board } from '../lib.js';
import { barGaugePanel, timeseriesPanel } from '../panels.js';
import { TOP } from './top.js';

export function storesRow(b: Board): void {
  b.row('Image stores');
  b.add(
    timeseriesPanel({
      title: 'Bytes by image store',
      description:
        'Everything under each image store\'s roots. An inactive store (active="false") is one Docker no longer uses after a switch: it hides it but does not free it.',
      width: 12,
      height: 8,
      unit: 'bytes',
      targets: [query('A', sel('layerdu_store_bytes'), { legend: '{{store}} active={{active}} {{instance}}' })],
    }),
  );
  b.add(
    barGaugePanel({
      title: 'Compressed copies by image',
      description:
        'On the containerd store each image keeps its compressed layer blobs beside the unpacked snapshots: this is what those copies cost, per image (shared blobs counted in each image that holds them).',
      width: 12,
      height: 8,
      unit: 'bytes',
      targets: [query('A', `topk(${TOP}, ${sel('layerdu_image_content_bytes')})`, { legend: '{{image}} {{instance}}', instant: true })],
    }),
  );
}
