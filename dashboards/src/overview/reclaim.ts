// The overview's "What you can free" row: what each clean-up would free now, and what `docker
// rmi` of each image would, from the reclaim planner.
import { query, sel, type Board } from '../lib.js';
import { barGaugePanel } from '../panels.js';
import { TOP } from './top.js';

export function reclaimRow(b: Board): void {
  b.row('What you can free');
  b.add(
    barGaugePanel({
      title: 'What each clean-up would free now',
      description:
        "Each prune as if it ran now, alone, on the daemon's own rules (dangling against unused images, anonymous against named volumes on API 1.42+, build cache an image still shares): a layer counts only when nothing that survives holds it. logs, orphans and inactive-store are for a person to do, not a command: see the text report for how.",
      width: 12,
      height: 9,
      unit: 'bytes',
      targets: [query('A', `max by (instance, action) (${sel('layerdu_reclaimable_bytes')})`, { legend: '{{action}} {{instance}}', instant: true })],
    }),
  );
  b.add(
    barGaugePanel({
      title: 'docker rmi frees',
      description: "What removing each image would free now, its untagged parents nothing else needs included; 0 while a container uses it or another image is built on it.",
      width: 12,
      height: 9,
      unit: 'bytes',
      targets: [query('A', `topk(${TOP}, ${sel('layerdu_image_rmi_bytes')} > 0)`, { legend: '{{image}} {{instance}}', instant: true })],
    }),
  );
}
