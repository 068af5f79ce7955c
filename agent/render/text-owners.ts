// The text report's "Owners" section: compose projects and `--owner.label` values, biggest
// first by what removing the owner would free (its own bytes: shared image units are not).
import type { OwnerReport, Report } from '../model/report.js';
import { type Column, formatIEC } from './units.js';

/** What removing the owner frees: its containers' layers and logs, its volumes, its image units. */
export const ownBytes = (o: OwnerReport): number => o.disk.writable + o.disk.logs + o.disk.volumes + o.disk.imagesExclusive;

export function ownersSection(
  report: Report,
  bold: (s: string) => string,
  grid: (rows: string[][], columns: Column[]) => string[],
  nameOf: (id: string) => string,
): string[] {
  if (report.owners.length === 0) return [];
  const owners = [...report.owners].sort(
    (a, b) => ownBytes(b) - ownBytes(a) || a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name),
  );
  // A compose project's containers read best as its services; a label's as container names.
  const members = (o: OwnerReport) => o.containers.map((id) => o.services?.[id] ?? nameOf(id)).join(', ');
  return [
    bold(`Owners (${owners.length}, by what removing one frees)`),
    ...grid(
      owners.map((o) => [
        o.kind,
        o.name,
        members(o),
        formatIEC(o.disk.writable),
        formatIEC(o.disk.logs),
        formatIEC(o.disk.volumes),
        formatIEC(o.disk.imagesExclusive),
        formatIEC(o.disk.imagesShared),
      ]),
      [
        { header: 'KIND' },
        { header: 'NAME', truncate: true },
        { header: 'CONTAINERS', truncate: true },
        { header: 'WRITABLE', align: 'right' },
        { header: 'LOGS', align: 'right' },
        { header: 'VOLUMES', align: 'right' },
        { header: 'IMG EXCL', align: 'right' },
        { header: 'IMG SHARED', align: 'right' },
      ],
    ),
    'WRITABLE includes -init layers; VOLUMES are those only the owner mounts; IMG EXCL is what removing its',
    'containers and the images only they run frees, IMG SHARED the rest of those images (other images hold it).',
  ];
}
