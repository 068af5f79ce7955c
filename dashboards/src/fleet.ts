// The fleet dashboard: which of many Docker hosts to clean up first. It ranks hosts by what can be
// freed, waste, orphans and compressed copies, and shows each host's fill, store and scan health.
// Every per-host figure is a series recorded by the layerdu-fleet group of ../layerdu.rules.yml
// (one series a host, labelled job and instance), so a ranking over hundreds of hosts reads a few
// hundred series, not every image's; `topk($top, …)` keeps each ranking to the $top first.
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { Board, query, sel, topVariable } from './lib.js';
import { hostInfoTable } from './overview/storage-driver.js';
import { barGaugePanel, boolMapping, statPanel, tablePanel } from './panels.js';

export const FLEET_UID = 'layerdu-fleet';

/** The layerdu-fleet recording rules the panels read (../layerdu.rules.yml says what each counts). */
export const RECORDED = {
  total: 'instance:layerdu_host_bytes:sum',
  wasted: 'instance:layerdu_wasted_bytes:sum',
  orphans: 'instance:layerdu_host_orphans_bytes:sum',
  compressed: 'instance:layerdu_host_image_content_bytes:sum',
  buildCache: 'instance:layerdu_host_build_cache_bytes:sum',
  reclaimable: 'instance:layerdu_reclaimable_bytes:lower_bound',
  fsUsed: 'instance:layerdu_filesystem_used:ratio',
} as const;

const RECLAIMABLE_WHAT =
  'orphans + build cache + unique bytes of images no container was created from: a lower bound, recorded as instance:layerdu_reclaimable_bytes:lower_bound until the agent exports layerdu_reclaimable_bytes{action}';

const SCAN_AGE = `time() - ${sel('layerdu_last_scan_timestamp_seconds')}`;

/** A count of hosts in a state, 0 (not no data) when none is. */
const hostsWhere = (cond: string) => `count(${cond}) or vector(0)`;

/** A stat of how many hosts are in a bad state: green at 0, red from 1. */
function badHostsStat(b: Board, title: string, description: string, cond: string): void {
  b.add(
    statPanel({
      title,
      description,
      width: 3,
      height: 4,
      unit: 'none',
      steps: [
        { value: null, color: 'green' },
        { value: 1, color: 'red' },
      ],
      targets: [query('A', hostsWhere(cond), { instant: true })],
    }),
  );
}

function bytesStat(b: Board, title: string, description: string, expr: string): void {
  b.add(statPanel({ title, description, width: 3, height: 4, unit: 'bytes', targets: [query('A', expr, { instant: true })] }));
}

/** A bar gauge of the $top hosts by one recorded figure (or expression), largest first. */
function ranking(b: Board, title: string, description: string, expr: string, o: { unit?: string; width?: number; max?: number } = {}): void {
  const p = barGaugePanel({
    title,
    description,
    width: o.width ?? 8,
    height: 9,
    unit: o.unit ?? 'bytes',
    targets: [query('A', `topk($top, ${expr})`, { legend: '{{instance}}', instant: true })],
  });
  if (o.max !== undefined) p.max(o.max);
  b.add(p);
}

function fleetRow(b: Board): void {
  b.row('Fleet');
  b.add(
    statPanel({
      title: 'Hosts',
      description: 'layerdu agents Prometheus scrapes (among the chosen hosts).',
      width: 3,
      height: 4,
      unit: 'none',
      targets: [query('A', `count(${sel('layerdu_scan_success')})`, { instant: true })],
    }),
  );
  bytesStat(b, 'Reclaimable, at least', `What the chosen hosts could free at least, added up: ${RECLAIMABLE_WHAT}.`, `sum(${sel(RECORDED.reclaimable)})`);
  bytesStat(b, 'Wasted', "Files in images' lower layers that upper layers delete or overwrite, added up over the chosen hosts' images.", `sum(${sel(RECORDED.wasted)})`);
  badHostsStat(b, 'Scans failing', 'Hosts whose last scan met a problem on disk (layerdu_scan_success 0): their figures may be incomplete.', `${sel('layerdu_scan_success')} == 0`);
  badHostsStat(b, 'Scans stale', 'Hosts whose last finished scan is over an hour old (as LayerduScanStale).', `${SCAN_AGE} > 3600`);
  badHostsStat(b, 'Docker API down', 'Hosts whose Docker API did not answer in the last scan; their figures come from disk alone.', `${sel('layerdu_docker_api_up')} == 0`);
  badHostsStat(b, 'vfs fallbacks', 'Hosts whose daemon fell back to vfs although overlay is available: every layer is a full copy.', `${sel('layerdu_vfs_fallback')} == 1`);
  badHostsStat(b, 'Without d_type', 'Hosts whose docker root filesystem lacks d_type (ext4 without filetype, xfs ftype=0): overlay2 refuses it.', `${sel('layerdu_dtype_supported')} == 0`);
}

function rankingsRow(b: Board): void {
  b.row('Rankings');
  ranking(b, 'Hosts by reclaimable bytes (lower bound)', `What each host could free at least: ${RECLAIMABLE_WHAT}.`, sel(RECORDED.reclaimable));
  ranking(b, 'Hosts by wasted bytes', "Wasted bytes of each host's listed images added up (waste in a layer two images share counts in each).", sel(RECORDED.wasted));
  ranking(b, 'Hosts by orphaned bytes', 'Layer directories, snapshots, blobs and partial downloads nothing refers to: usually left by crashes and failed builds. Removed by hand, daemon stopped.', sel(RECORDED.orphans));
  ranking(b, 'Hosts by compressed copies', "The containerd image store's content blobs: the compressed copy of every image kept beside its unpacked snapshots, each blob once. 0 on the graphdriver store.", sel(RECORDED.compressed));
  ranking(b, 'Hosts by Docker disk use', 'Every byte under the docker root (and the containerd root), each counted once.', sel(RECORDED.total));
  ranking(b, 'Fullest docker root filesystems', 'Share of the filesystem holding the docker root that is no longer available.', sel(RECORDED.fsUsed), { unit: 'percentunit', max: 1 });
}

/** One column of the hosts table: labels job and instance only (no __name__), so `merge` joins them. */
const perHost = (refId: string, expr: string) => query(refId, `max by (job, instance) (${expr})`, { instant: true, table: true });

function hostsRow(b: Board): void {
  b.row('Hosts');
  const flags: Array<[string, ReturnType<typeof boolMapping>]> = [
    ['Value #I', boolMapping(1, 'ok', 'FAILED')],
    ['Value #J', boolMapping(1, 'up', 'DOWN')],
    ['Value #K', boolMapping(0, 'no', 'VFS')],
    ['Value #L', boolMapping(1, 'yes', 'MISSING')],
  ];
  const p = tablePanel({
    title: 'All hosts',
    description: `Every chosen host, most reclaimable first (sort by any column). Reclaimable: ${RECLAIMABLE_WHAT}. d_type is empty where it is unknown.`,
    width: 24,
    height: 10,
    targets: [
      perHost('A', sel(RECORDED.reclaimable)),
      perHost('B', sel(RECORDED.wasted)),
      perHost('C', sel(RECORDED.orphans)),
      perHost('D', sel(RECORDED.compressed)),
      perHost('E', sel(RECORDED.buildCache)),
      perHost('F', sel(RECORDED.total)),
      perHost('G', sel(RECORDED.fsUsed)),
      perHost('H', SCAN_AGE),
      perHost('I', sel('layerdu_scan_success')),
      perHost('J', sel('layerdu_docker_api_up')),
      perHost('K', sel('layerdu_vfs_fallback')),
      perHost('L', sel('layerdu_dtype_supported')),
    ],
    columns: {
      instance: 'Host',
      'Value #A': 'Reclaimable (at least)',
      'Value #B': 'Wasted',
      'Value #C': 'Orphans',
      'Value #D': 'Compressed copies',
      'Value #E': 'Build cache',
      'Value #F': 'Docker disk use',
      'Value #G': 'Root filesystem used',
      'Value #H': 'Last scan',
      'Value #I': 'Scan',
      'Value #J': 'Docker API',
      'Value #K': 'vfs fallback',
      'Value #L': 'd_type',
    },
    units: {
      ...Object.fromEntries(['A', 'B', 'C', 'D', 'E', 'F'].map((r) => [`Value #${r}`, 'bytes'])),
      'Value #G': 'percentunit',
      'Value #H': 's',
    },
    sortBy: 'Reclaimable (at least)',
    noValue: '',
  });
  for (const [field, mappings] of flags) p.overrideByName(field, [{ id: 'mappings', value: mappings }]);
  b.add(p);
}

function storesRow(b: Board): void {
  b.row('Stores and scans');
  b.add(
    tablePanel({
      title: 'Image store and storage driver',
      description: 'The image store each host uses (graphdriver or containerd), its storage driver or snapshotter, the filesystem beneath and the docker root.',
      width: 12,
      height: 9,
      targets: [query('A', sel('layerdu_storage_driver_info'), { instant: true, table: true })],
      columns: { instance: 'Host', store: 'Store', driver: 'Driver', backing_fs: 'Backing filesystem', docker_root: 'Docker root' },
      sortBy: 'Host',
      ascending: true,
    }),
  );
  b.add(
    barGaugePanel({
      title: 'Hosts by store and driver',
      description: 'How many hosts use each image store and driver: the containerd store keeps compressed copies, vfs full copies.',
      width: 6,
      height: 9,
      unit: 'none',
      targets: [query('A', `count by (store, driver) (${sel('layerdu_storage_driver_info')})`, { legend: '{{store}} {{driver}}', instant: true })],
    }),
  );
  ranking(b, 'Oldest scans', 'Seconds since each host last finished a scan (every 5 minutes by default): stuck or failing agents first.', SCAN_AGE, { unit: 's', width: 6 });
}

function systemsRow(b: Board): void {
  b.row('Systems and disks');
  b.add(hostInfoTable(18, 9));
  b.add(
    barGaugePanel({
      title: 'Hosts by device type',
      description: 'How many hosts keep their docker root on each kind of device: cold scans are slowest on spinning disks.',
      width: 6,
      height: 9,
      unit: 'none',
      targets: [query('A', `count by (device_type) (${sel('layerdu_host_info')})`, { legend: '{{device_type}}', instant: true })],
    }),
  );
}

export function fleet(): Dashboard {
  const b = new Board(
    FLEET_UID,
    'layerdu: fleet',
    'Docker hosts ranked by what can be freed, wasted bytes, orphans and compressed copies, with each host\'s fill, image store and scan health. Reads the layerdu-fleet recording rules (dashboards/layerdu.rules.yml).',
  );
  b.builder.withVariable(topVariable([5, 10, 20, 50, 100], 10));
  fleetRow(b);
  rankingsRow(b);
  hostsRow(b);
  storesRow(b);
  systemsRow(b);
  return b.build();
}
