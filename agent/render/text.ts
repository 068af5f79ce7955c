// `layerdu --report` (text): the report for a person at a terminal. Figures are disk bytes
// (du -sB1) unless a column says apparent; see ../shared/contract.md.
import type { Report } from '../model/report.js';
import { kubernetesSection } from './text-kubernetes.js';
import { logAuditSection } from './text-logs.js';
import { ownersSection } from './text-owners.js';
import { reclaimSection } from './text-reclaim.js';
import { contentLines, dockerCaveats, storesSection } from './text-stores.js';
import { type Column, formatIEC, table } from './units.js';

export interface TextOptions {
  /** ANSI bold for headings; only for a terminal that asked for it. */
  color?: boolean;
  /** Tables shrink their name columns to fit. */
  width?: number;
}

const INDENT = '  ';

/** layerdb entries whose cache-id was missing or garbage: their directories look like orphans. */
function unreadableLayerRecords(report: Report): number {
  return report.errors.filter((e) => e.source === 'layer-metadata' && /cache-id|mount-id/.test(e.message)).length;
}

export function renderText(report: Report, opts: TextOptions = {}): string {
  const width = opts.width ?? 100;
  const bold = (s: string) => (opts.color ? `\x1b[1m${s}\x1b[0m` : s);
  const grid = (rows: string[][], columns: Column[]) =>
    table(rows, columns, width - INDENT.length).map((l) => INDENT + l);
  const names = new Map(report.containers.map((c) => [c.id, displayName(c.name, c.id)]));

  const sections: string[][] = [[headerLine(report)]];
  if (report.driver.vfsFallback) sections.push(vfsBlock(report, bold));

  const t = report.totals;
  const category = (label: string, key: keyof typeof t.disk) => [label, formatIEC(t.disk[key]), formatIEC(t.apparent[key])];
  const heldApparent = t.apparent.imageLayers + t.apparent.containerLayers;
  const saved = t.naiveVirtual - heldApparent;
  // Virtual sizes are Docker's apparent figures covering images and containers only, so the fair
  // comparison is with what image and container layers hold on that same basis.
  const share = t.naiveVirtual > 0 ? ` (${Math.round((saved / t.naiveVirtual) * 100)}%)` : '';
  sections.push([
    bold('Host totals'),
    ...grid(
      [
        category('Image layers', 'imageLayers'),
        ...(t.disk.imageContent > 0 ? [category('Image content (blobs)', 'imageContent')] : []),
        category('Container layers', 'containerLayers'),
        category('Volumes', 'volumes'),
        category('Logs', 'logs'),
        category('Build cache', 'buildCache'),
        category('Orphans', 'orphans'),
        category('Other (metadata)', 'other'),
        category('Total', 'total'),
      ],
      [{ header: 'CATEGORY' }, { header: 'DISK', align: 'right' }, { header: 'APPARENT', align: 'right' }],
    ),
    `Adding up virtual sizes claims ${formatIEC(t.naiveVirtual)}; image and container layers hold ${formatIEC(heldApparent)} (apparent).`,
    `Sharing saves ${formatIEC(saved)}${share}.`,
    ...contentLines(report),
    ...dockerCaveats(report),
  ]);
  const stores = storesSection(report, bold, INDENT);
  if (stores.length) sections.push(stores);

  const images = [...report.images].sort((a, b) => b.disk.unique - a.disk.unique || a.id.localeCompare(b.id));
  sections.push(
    images.length === 0
      ? [`${bold('Images:')} none`]
      : [
          bold(`Images (${images.length}, by unique disk bytes)`),
          ...grid(
            images.map((i) => [
              i.tags[0] ?? '<none>',
              shortId(i.id),
              formatIEC(i.disk.total),
              formatIEC(i.disk.shared),
              formatIEC(i.disk.unique),
              formatIEC(i.wasted.disk),
              String(i.containers),
            ]),
            [
              { header: 'IMAGE', truncate: true },
              { header: 'ID' },
              { header: 'TOTAL', align: 'right' },
              { header: 'SHARED', align: 'right' },
              { header: 'UNIQUE', align: 'right' },
              { header: 'WASTED', align: 'right' },
              { header: 'CONTAINERS', align: 'right' },
            ],
          ),
        ],
  );

  const containers = [...report.containers].sort(
    (a, b) => b.writable.disk + b.logs - (a.writable.disk + a.logs) || a.id.localeCompare(b.id),
  );
  sections.push(
    containers.length === 0
      ? [`${bold('Containers:')} none`]
      : [
          bold(`Containers (${containers.length}, by writable + logs)`),
          ...grid(
            containers.map((c) => [
              displayName(c.name, c.id),
              shortId(c.id),
              c.state,
              formatIEC(c.writable.disk),
              formatIEC(c.copiedUp.disk),
              formatIEC(c.logs),
            ]),
            [
              { header: 'NAME', truncate: true },
              { header: 'ID' },
              { header: 'STATE' },
              { header: 'WRITABLE', align: 'right' },
              { header: 'COPIED-UP', align: 'right' },
              { header: 'LOGS', align: 'right' },
            ],
          ),
        ],
  );

  const volumes = [...report.volumes].sort((a, b) => b.disk - a.disk || a.name.localeCompare(b.name));
  sections.push(
    volumes.length === 0
      ? [`${bold('Volumes:')} none`]
      : [
          bold(`Volumes (${volumes.length})`),
          ...grid(
            volumes.map((v) => [
              v.name,
              formatIEC(v.disk),
              formatIEC(v.apparent),
              v.containers.map((id) => names.get(id) ?? shortId(id)).join(', ') || '-',
            ]),
            [
              { header: 'NAME', truncate: true },
              { header: 'DISK', align: 'right' },
              { header: 'APPARENT', align: 'right' },
              { header: 'USED BY', truncate: true },
            ],
          ),
        ],
  );

  const owners = ownersSection(report, bold, grid, (id) => names.get(id) ?? shortId(id));
  if (owners.length) sections.push(owners);
  const unboundedLogs = logAuditSection(report, bold, grid, shortId);
  if (unboundedLogs.length) sections.push(unboundedLogs);
  const kubernetes = kubernetesSection(report, bold);
  if (kubernetes.length) sections.push(kubernetes);
  const reclaim = reclaimSection(report, bold, grid);
  if (reclaim.length) sections.push(reclaim);

  const bc = report.buildCache;
  sections.push([
    bc.dirs === 0 && bc.disk === 0
      ? `${bold('Build cache:')} none`
      : `${bold('Build cache:')} ${formatIEC(bc.disk)} on disk (${formatIEC(bc.apparent)} apparent) in ${bc.dirs} ` +
        (bc.dirs === 1 ? 'dir' : 'dirs'),
  ]);

  const orphans = [...report.orphans].sort((a, b) => b.disk - a.disk || a.path.localeCompare(b.path));
  sections.push(
    orphans.length === 0
      ? [`${bold('Orphans:')} none`]
      : [
          bold(`Orphans (${orphans.length})`),
          // Paths stay whole: they are what the reader will go and look at.
          ...grid(
            orphans.map((o) => [formatIEC(o.disk), formatIEC(o.apparent), o.path]),
            [{ header: 'DISK', align: 'right' }, { header: 'APPARENT', align: 'right' }, { header: 'PATH' }],
          ),
          'No image, container or build-cache record refers to these. They are safe to inspect; layerdu never',
          'deletes anything, so check what they hold before removing them yourself.',
          ...(unreadableLayerRecords(report) > 0
            ? [
                `Caution: ${unreadableLayerRecords(report)} layer record(s) could not be read (see Errors); the layers they`,
                'name are listed here as orphans although an image may still use them.',
              ]
            : []),
        ],
  );

  if (report.errors.length > 0) {
    sections.push([
      bold(`Errors (${report.errors.length}; the scan went on past each)`),
      ...report.errors.map((e) => `${INDENT}${e.source}${e.path ? ` ${e.path}` : ''}: ${e.message}`),
    ]);
  }

  return `${sections.map((s) => s.join('\n')).join('\n\n')}\n`;
}

function headerLine(report: Report): string {
  const d = report.driver;
  const fs = [d.backingFs ? `on ${d.backingFs}` : null, d.dType === null ? null : d.dType ? '(d_type)' : '(no d_type)']
    .filter((s) => s !== null)
    .join(' ');
  const api = report.dockerAbsent
    ? 'no Docker here: containerd alone'
    : report.apiUp
      ? 'Docker API answered'
      : 'Docker API did not answer: figures come from disk alone';
  const store = d.store === 'containerd' ? ' (containerd image store)' : '';
  return `Docker root ${report.dockerRoot}${deviceText(report)} · storage driver ${d.name}${store}${fs ? ` ${fs}` : ''} · ${api}`;
}

type DeviceType = NonNullable<Report['host']>['device']['type'];
const DEVICE_TYPES: Record<DeviceType, string> = { nvme: 'NVMe SSD', ssd: 'SSD', hdd: 'spinning disk', virtual: 'virtual disk', unknown: 'device type unknown' };

/** ` on /dev/vda (virtual disk)`: the device under the docker root, when the host's facts name one. */
function deviceText(report: Report): string {
  const dev = report.host?.device;
  return dev?.name ? ` on ${dev.name} (${DEVICE_TYPES[dev.type]})` : '';
}

function vfsBlock(report: Report, bold: (s: string) => string): string[] {
  const d = report.driver;
  const cost =
    d.vfsDuplicateBytes === undefined
      ? 'not measured; every image stores a full copy of each layer beneath it'
      : `${formatIEC(d.vfsDuplicateBytes)} more than overlay2 would need for the same images and containers`;
  return [
    bold('WARNING: Docker is on the vfs storage driver: every layer is a full copy.'),
    `${INDENT}Cost: ${cost}.`,
    ...(d.reason ? [`${INDENT}Why:  ${d.reason}`] : []),
    `${INDENT}Fix:  put the data root on a filesystem with d_type: xfs made with ftype=1 (mkfs.xfs -n ftype=1)`,
    `${INDENT}      or ext4 with the filetype feature. Move the data root there ("data-root" in`,
    `${INDENT}      /etc/docker/daemon.json), restart Docker so it picks overlay2, then pull or rebuild images.`,
  ];
}

function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

// The Docker API reports names with a leading slash; a person never types it.
function displayName(name: string, id: string): string {
  return name.replace(/^\//, '') || shortId(id);
}
