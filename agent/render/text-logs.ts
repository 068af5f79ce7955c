// The text report's "Logs without a size limit" section: the log audit, and the safe fix.
import type { Report } from '../model/report.js';
import { type Column, formatIEC } from './units.js';

/** Bytes an hour, signed: a truncated log shrinks. */
function perHour(g: { bytes: number; seconds: number }): string {
  const rate = (g.bytes / g.seconds) * 3600;
  return `${rate > 0 ? '+' : ''}${formatIEC(rate)}/h`;
}

export function logAuditSection(
  report: Report,
  bold: (s: string) => string,
  grid: (rows: string[][], columns: Column[]) => string[],
  shortId: (id: string) => string,
): string[] {
  const audit = report.logAudit ?? [];
  if (audit.length === 0) return [];
  const growth = audit.some((a) => a.growth !== null);
  const root = report.dockerRoot.replace(/\/$/, '');
  return [
    bold(`Logs without a size limit (${audit.length}: json-file logs without max-size, never rotated)`),
    ...grid(
      audit.map((a) => [a.name || shortId(a.containerId), shortId(a.containerId), formatIEC(a.logs), ...(growth ? [a.growth ? perHour(a.growth) : '-'] : [])]),
      [{ header: 'NAME', truncate: true }, { header: 'ID' }, { header: 'LOGS', align: 'right' }, ...(growth ? [{ header: 'GROWTH', align: 'right' as const }] : [])],
    ),
    ...(growth ? [] : ['Growth is measured between two scans of the agent; a one-off report has one scan.']),
    'These logs grow until the disk is full. The fix: set "log-opts": {"max-size": "10m", "max-file": "3"}',
    'in /etc/docker/daemon.json and restart Docker; that applies to containers created afterwards only, so',
    'recreate these (docker compose up -d --force-recreate, or docker rm and docker run again; one container',
    'alone: docker run --log-opt max-size=10m --log-opt max-file=3). To free the space before then:',
    `  truncate -s 0 ${root}/containers/<id>/<id>-json.log`,
    'drops every line (docker logs loses them) and is the one safe way while the daemon writes the file (it',
    'appends). Never rm it: the daemon holds it open, so the space stays used until the container stops.',
  ];
}
