// The overview's Scan health row: whether the figures above are fresh and complete.
import { query, sel, type Board } from '../lib.js';
import { boolMapping, statPanel, statusHistoryPanel, timeseriesPanel } from '../panels.js';

export function scanHealthRow(b: Board): void {
  b.row('Scan health');
  b.add(
    statPanel({
      title: 'Last scan',
      description: 'Seconds since the last finished scan (scans run on --scan.schedule, every 5 minutes by default).',
      width: 4,
      height: 5,
      unit: 's',
      steps: [
        { value: null, color: 'green' },
        { value: 900, color: 'orange' },
        { value: 3600, color: 'red' },
      ],
      targets: [query('A', `time() - ${sel('layerdu_last_scan_timestamp_seconds')}`, { legend: '{{instance}}', instant: true })],
    }),
  );
  b.add(
    statPanel({
      title: 'Scan success',
      description: 'Whether the last scan finished without any problem (see problems by collector).',
      width: 4,
      height: 5,
      unit: 'none',
      mappings: boolMapping(1, 'ok', 'FAILED'),
      targets: [query('A', sel('layerdu_scan_success'), { legend: '{{instance}}' })],
    }),
  );
  b.add(
    statPanel({
      title: 'Docker API',
      description: 'Whether the Docker API answered in the last scan. layerdu goes on from disk alone when it does not.',
      width: 4,
      height: 5,
      unit: 'none',
      mappings: boolMapping(1, 'up', 'DOWN'),
      targets: [query('A', sel('layerdu_docker_api_up'), { legend: '{{instance}}' })],
    }),
  );
  b.add(
    timeseriesPanel({
      title: 'Scan duration',
      description: 'Wall time of the last finished scan.',
      width: 6,
      height: 5,
      unit: 's',
      targets: [query('A', sel('layerdu_scan_duration_seconds'), { legend: '{{instance}}' })],
    }),
  );
  b.add(
    timeseriesPanel({
      title: 'Layers walked and reused',
      description: 'Image layers walked in the last scan, and those whose earlier walk was reused (committed layers never change).',
      width: 6,
      height: 5,
      unit: 'short',
      targets: [
        query('A', sel('layerdu_scan_layers_walked'), { legend: 'walked {{instance}}' }),
        query('B', sel('layerdu_scan_layers_reused'), { legend: 'reused {{instance}}' }),
      ],
    }),
  );
  b.add(
    statusHistoryPanel({
      title: 'Collector success',
      description: 'Whether each collector finished without a problem, scan by scan.',
      width: 8,
      height: 8,
      mappings: boolMapping(1, 'ok', 'failed'),
      targets: [query('A', sel('layerdu_collector_success'), { legend: '{{collector}} {{instance}}' })],
    }),
  );
  b.add(
    timeseriesPanel({
      title: 'Collector duration',
      description: 'How long each collector took in the last scan.',
      width: 8,
      height: 8,
      unit: 's',
      targets: [query('A', sel('layerdu_collector_duration_seconds'), { legend: '{{collector}} {{instance}}' })],
    }),
  );
  b.add(
    timeseriesPanel({
      title: 'Problems by collector',
      description: 'Problems met in the last scan (an unreadable file, corrupt metadata, a hung API…); the scan went on past each. Details are on the agent\'s stderr.',
      width: 8,
      height: 8,
      unit: 'short',
      targets: [query('A', sel('layerdu_scan_errors'), { legend: '{{collector}} {{instance}}' })],
    }),
  );
  b.add(
    timeseriesPanel({
      title: 'Objects folded into _other',
      description: 'Objects of each kind beyond --metrics.max-objects (default 500), summed in one series labelled _other in the per-object panels above; the JSON report lists them all. Raise the flag, or 0 for no cap, to see them one by one.',
      width: 24,
      height: 5,
      unit: 'short',
      targets: [query('A', sel('layerdu_series_capped'), { legend: '{{kind}} {{instance}}' })],
    }),
  );
}
