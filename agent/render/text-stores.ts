// The text report's lines about image stores: what the containerd store's compressed copies
// cost, where Docker's own figures go wrong on it, and a store Docker no longer uses.
import type { Report } from '../model/report.js';
import { formatIEC } from './units.js';

export function contentLines(report: Report): string[] {
  const t = report.totals.disk;
  if (t.imageContent === 0) return [];
  const images = t.imageLayers + t.imageContent;
  const share = images > 0 ? ` (${Math.round((t.imageContent / images) * 100)}% of the images' bytes)` : '';
  return [
    `The containerd store keeps each image's compressed blobs beside its unpacked snapshots: ${formatIEC(t.imageContent)} on disk${share}.`,
  ];
}

export function dockerCaveats(report: Report): string[] {
  if (report.driver.store !== 'containerd') return [];
  return [
    "Docker's own figures on this store: `docker system df` SHARED SIZE counts shared snapshots only, not the",
    'blobs images share, and its Images total also counts containers\' writable layers and BuildKit\'s snapshots,',
    'which its Containers and Build Cache rows count again. The figures here count each unit once.',
  ];
}

export function storesSection(report: Report, bold: (s: string) => string, indent: string): string[] {
  const inactive = report.stores.filter((s) => !s.active);
  if (report.stores.length < 2 && inactive.length === 0) return [];
  return [
    bold(`Image stores (${report.stores.length})`),
    ...report.stores.map((s) => `${indent}${s.store} (${s.driver}${s.namespace ? `, namespace ${s.namespace}` : ''}) at ${s.root}: ${formatIEC(s.disk)}${s.active ? '' : ' — not in use'}`),
    ...inactive.map(
      (s) => `Docker no longer uses the ${s.store} store at ${s.root}: it hides its ${formatIEC(s.disk)} but does not free them.`,
    ),
  ];
}
