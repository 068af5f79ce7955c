// The text report's "What you can free" section: each clean-up with the command to run and what
// it frees now, biggest first; then what only a person should do, with the safe way to do it.
import type { ReclaimReport, Report } from '../model/report.js';
import { type Column, formatIEC } from './units.js';

/** How to do by hand what no command does safely. */
const BY_HAND: Record<string, string> = {
  logs: 'set log-opts max-size/max-file in /etc/docker/daemon.json (new containers) or recreate with --log-opt max-size=…; to free now, `truncate -s 0` the log (never rm it: the daemon keeps it open)',
  orphans: 'stop the daemon, check each directory is in no image, container or build record (layerdu lists them under Orphans), move it aside, start the daemon, remove it once all is well; never rm -rf inside overlay2/ by hand while the daemon runs',
  'inactive-store': "the store Docker no longer uses after a switch: stop the daemon, move the old store's directories aside, start it, check your images and containers, then remove them",
};

export function reclaimSection(report: Report, bold: (s: string) => string, grid: (rows: string[][], columns: Column[]) => string[]): string[] {
  if (report.reclaim.length === 0) return [];
  const byBytes = (a: ReclaimReport, b: ReclaimReport) => b.disk - a.disk || a.action.localeCompare(b.action);
  const commands = report.reclaim.filter((r) => r.command !== null).sort(byBytes);
  const manual = report.reclaim.filter((r) => r.command === null && r.disk > 0).sort(byBytes);
  const out = [
    bold('What you can free (each if run now, alone)'),
    ...(commands.length === 0
      ? ['  no Docker here: no docker command applies']
      : grid(
          commands.map((r) => [formatIEC(r.disk), String(r.objects), r.command!]),
          [{ header: 'FREES', align: 'right' }, { header: 'OBJECTS', align: 'right' }, { header: 'COMMAND' }],
        )),
  ];
  // What a prune takes changed with the API (volumes: anonymous only from 1.42): without an answer
  // the plan is for a current daemon.
  if (!report.apiUp && !report.dockerAbsent && commands.length > 0) out.push('The Docker API did not answer: these assume API 1.42 or later (Docker 23+); older daemons prune named volumes too.');
  if (manual.length > 0) {
    out.push('Only a person should do these:');
    for (const r of manual) out.push(`  ${formatIEC(r.disk).padStart(10)}  ${r.action}: ${BY_HAND[r.action] ?? ''}`);
  }
  return out;
}
