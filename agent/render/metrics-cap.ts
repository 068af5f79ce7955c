// The cap on per-object series (`--metrics.max-objects`): a host with thousands of images or
// containers would give Prometheus tens of thousands of series a scrape. Of each kind of object
// the N biggest by disk bytes keep their own series; the rest are summed into one object whose
// every identifying label is `_other` (an owner keeps its kind: one `_other` per kind). The sums
// are kept, so totals over a gauge stay true. Only the exposition is capped: the JSON and text
// reports list every object.
import type { ContainerReport, ImageReport, LayerReport, OrphanReport, OwnerReport, Report, SharedUnique, VolumeReport } from '../model/report.js';

/** The label value of the series that holds every folded object of a kind. */
export const OTHER = '_other';
export const DEFAULT_MAX_OBJECTS = 500;
export const CAPPED_KINDS = ['image', 'layer', 'container', 'volume', 'owner', 'orphan'] as const;
export type CappedKind = (typeof CAPPED_KINDS)[number];

/** The gauges of per-object series, which the cap applies to. */
export const CAPPED_GAUGES: ReadonlySet<string> = new Set([
  'layerdu_image_bytes',
  'layerdu_image_apparent_bytes',
  'layerdu_image_content_bytes',
  'layerdu_wasted_bytes',
  'layerdu_image_rmi_bytes',
  'layerdu_image_layer_info',
  'layerdu_layer_bytes',
  'layerdu_layer_images',
  'layerdu_container_bytes',
  'layerdu_container_copied_up_bytes',
  'layerdu_container_log_unbounded',
  'layerdu_container_log_growth_bytes_per_second',
  'layerdu_volume_bytes',
  'layerdu_owner_bytes',
  'layerdu_orphan_bytes',
]);

/** Said in the HELP of every gauge the cap applies to. */
export const CAP_HELP = `; beyond --metrics.max-objects objects of a kind, the rest are summed in one series labelled ${OTHER}`;

export interface CappedReport {
  /** The report with each kind's list cut to its N biggest, and the rest as one `_other` object. */
  report: Report;
  /** How many objects of each kind were folded into `_other`. */
  folded: Record<CappedKind, number>;
  /** How many (image, layer) pairs of `layerdu_image_layer_info` the folded images held. */
  foldedImageLayers: number;
}

/** The `max` biggest of `items` by `bytes` (the first listed wins a tie), in their own order, and the rest; 0 keeps every one. */
export function splitTop<T>(items: readonly T[], max: number, bytes: (t: T) => number): { kept: T[]; rest: T[] } {
  if (max <= 0 || items.length <= max) return { kept: [...items], rest: [] };
  const order = items.map((t, i) => ({ i, b: bytes(t) })).sort((a, b) => b.b - a.b || a.i - b.i);
  const keep = new Set(order.slice(0, max).map((o) => o.i));
  const kept: T[] = [];
  const rest: T[] = [];
  items.forEach((t, i) => (keep.has(i) ? kept : rest).push(t));
  return { kept, rest };
}

const sum = <T>(xs: readonly T[], f: (x: T) => number) => xs.reduce((n, x) => n + f(x), 0);
const sumBytes = <T>(xs: readonly T[], f: (x: T) => ImageReport['content']) => ({ disk: sum(xs, (x) => f(x).disk), apparent: sum(xs, (x) => f(x).apparent) });
const sumSharedUnique = (xs: readonly SharedUnique[]): SharedUnique => ({ total: sum(xs, (x) => x.total), shared: sum(xs, (x) => x.shared), unique: sum(xs, (x) => x.unique) });

function otherImage(rest: ImageReport[]): ImageReport {
  return {
    id: OTHER,
    tags: [OTHER],
    layers: [],
    disk: sumSharedUnique(rest.map((i) => i.disk)),
    apparent: sumSharedUnique(rest.map((i) => i.apparent)),
    content: sumBytes(rest, (i) => i.content),
    wasted: sumBytes(rest, (i) => i.wasted),
    containers: sum(rest, (i) => i.containers),
    rmi: sumBytes(rest, (i) => i.rmi),
  };
}

function otherLayer(rest: LayerReport[]): LayerReport {
  return {
    chainId: OTHER,
    cacheId: OTHER,
    disk: sum(rest, (l) => l.disk),
    apparent: sum(rest, (l) => l.apparent),
    // layerdu_layer_images of `_other` is the folded layers' counts summed.
    images: rest.flatMap((l) => l.images),
    containers: rest.flatMap((l) => l.containers),
  };
}

function otherContainer(rest: ContainerReport[]): ContainerReport {
  return {
    id: OTHER,
    name: OTHER,
    imageId: OTHER,
    state: OTHER,
    writable: sumBytes(rest, (c) => c.writable),
    init: sumBytes(rest, (c) => c.init),
    copiedUp: sumBytes(rest, (c) => c.copiedUp),
    logs: sum(rest, (c) => c.logs),
    logsApparent: sum(rest, (c) => c.logsApparent),
  };
}

function otherVolume(rest: VolumeReport[]): VolumeReport {
  return { name: OTHER, disk: sum(rest, (v) => v.disk), apparent: sum(rest, (v) => v.apparent), containers: [], anonymous: false };
}

function otherOrphan(rest: OrphanReport[]): OrphanReport {
  return { id: OTHER, kind: rest[0]!.kind, path: '', disk: sum(rest, (o) => o.disk), apparent: sum(rest, (o) => o.apparent) };
}

/** One `_other` owner per kind that lost any, in the order the kinds first appear. */
function otherOwners(rest: OwnerReport[]): OwnerReport[] {
  const kinds = [...new Set(rest.map((o) => o.kind))];
  return kinds.map((kind) => {
    const of = rest.filter((o) => o.kind === kind);
    const d = (f: (x: OwnerReport['disk']) => number) => sum(of, (o) => f(o.disk));
    return {
      kind,
      name: OTHER,
      containers: of.flatMap((o) => o.containers),
      disk: { writable: d((x) => x.writable), logs: d((x) => x.logs), volumes: d((x) => x.volumes), imagesExclusive: d((x) => x.imagesExclusive), imagesShared: d((x) => x.imagesShared) },
    };
  });
}

const ownerBytes = (o: OwnerReport) => o.disk.writable + o.disk.logs + o.disk.volumes + o.disk.imagesExclusive + o.disk.imagesShared;

/** The report as the exposition shows it under a cap of `max` objects a kind (0: no cap). */
export function capForMetrics(report: Report, max: number): CappedReport {
  const images = splitTop(report.images, max, (i) => i.disk.total);
  const layers = splitTop(report.layers, max, (l) => l.disk);
  const containers = splitTop(report.containers, max, (c) => c.writable.disk + c.init.disk + c.logs);
  const volumes = splitTop(report.volumes, max, (v) => v.disk);
  const owners = splitTop(report.owners, max, ownerBytes);
  const orphans = splitTop(report.orphans, max, (o) => o.disk);
  const withOther = <T>(part: { kept: T[]; rest: T[] }, other: (rest: T[]) => T | T[]): T[] => (part.rest.length ? part.kept.concat(other(part.rest)) : part.kept);
  return {
    report: {
      ...report,
      images: withOther(images, otherImage),
      layers: withOther(layers, otherLayer),
      containers: withOther(containers, otherContainer),
      volumes: withOther(volumes, otherVolume),
      owners: withOther(owners, otherOwners),
      orphans: withOther(orphans, otherOrphan),
    },
    folded: { image: images.rest.length, layer: layers.rest.length, container: containers.rest.length, volume: volumes.rest.length, owner: owners.rest.length, orphan: orphans.rest.length },
    foldedImageLayers: sum(images.rest, (i) => i.layers.length),
  };
}
