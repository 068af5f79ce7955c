// `--report --format dot`: the sharing graph in Graphviz DOT (`layerdu --report --format dot | dot -Tsvg`).
// Images point at their top layer and every layer at the one beneath it, so the layers an image
// holds are the nodes reachable from it, and two images share exactly the layers their paths have
// in common (chain ids name a whole stack, so sharing a layer means sharing everything below it).
// Layers that two or more listed images hold stand out (orange, bold, "shared by N images");
// containers hang off their image. On the containerd store images also point at the content
// blobs they hold (manifest, config, compressed layers: one node each, shared ones styled as
// shared layers are). Sizes are disk bytes in IEC units.
import type { ContainerReport, ContentReport, ImageReport, LayerReport, Report } from '../model/report.js';
import { formatIEC } from './units.js';

export interface DotOptions {
  /** Draw containers attached to their images (default true). */
  containers?: boolean;
}

const FONT = 'Helvetica';
const COLORS = {
  image: { fill: '#dbe9f6', border: '#2b6cb0' },
  layer: { fill: '#ffffff', border: '#888888' },
  shared: { fill: '#fdd49e', border: '#d94801' },
  container: { fill: '#e5f5e0', border: '#41ab5d' },
  blob: { fill: '#f2f0f7', border: '#756bb1' },
  edge: '#666666',
} as const;

/**
 * A DOT double-quoted string holding `lines` as separate label lines. Backslashes and quotes are
 * escaped (so a name can never end the string or inject a Graphviz escape such as `\N`), control
 * characters become U+FFFD, and the lines are joined with DOT's own `\n` escape.
 */
export function dotQuote(...lines: string[]): string {
  const esc = (s: string) =>
    s
      .replace(/\\/g, '\\\\')
      .replace(/"/g, '\\"')
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u001f\u007f]/g, '\ufffd');
  return `"${lines.map(esc).join('\\n')}"`;
}

/** A value already in DOT syntax (a quoted label from dotQuote). */
class Raw {
  constructor(readonly text: string) {}
}

function attrs(a: Record<string, string | number | Raw>): string {
  const value = (v: string | number | Raw) => (v instanceof Raw ? v.text : typeof v === 'number' ? String(v) : dotQuote(v));
  return `[${Object.entries(a)
    .map(([k, v]) => `${k}=${value(v)}`)
    .join(', ')}]`;
}

const label = (lines: string[]) => new Raw(dotQuote(...lines));

function hex(id: string): string {
  return id.replace(/^sha256:/, '');
}

function shortId(id: string): string {
  return hex(id).slice(0, 12);
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

const imageNode = (id: string) => dotQuote(`image:${hex(id)}`);
const layerNode = (chainId: string) => dotQuote(`layer:${hex(chainId)}`);
const containerNode = (id: string) => dotQuote(`container:${hex(id)}`);
const blobNode = (digest: string) => dotQuote(`blob:${hex(digest)}`);

/** What a blob is, from its media type (OCI's and Docker's names). */
export type BlobKind = 'index' | 'manifest' | 'config' | 'layer' | 'blob';

export function blobKind(mediaType: string | null): BlobKind {
  const t = mediaType ?? '';
  if (/image\.index\.|manifest\.list\./.test(t)) return 'index';
  if (/manifest/.test(t)) return 'manifest';
  if (/config|container\.image\.v1\+json/.test(t)) return 'config';
  if (/layer|rootfs\.diff/.test(t)) return 'layer';
  return 'blob';
}

const KIND_ORDER: BlobKind[] = ['index', 'manifest', 'config', 'layer', 'blob'];

function imageLabel(i: ImageReport): string[] {
  const names = i.tags.length > 0 ? i.tags.slice(0, 3) : [`<none> ${shortId(i.id)}`];
  if (i.tags.length > 3) names.push(`+${i.tags.length - 3} more tags`);
  const lines = [...names, `unique ${formatIEC(i.disk.unique)} / total ${formatIEC(i.disk.total)}`];
  if (i.wasted.disk > 0) lines.push(`wasted ${formatIEC(i.wasted.disk)}`);
  return lines;
}

function layerLabel(chainId: string, layer: LayerReport | undefined, sharedBy: number): string[] {
  const lines = [shortId(chainId), layer ? formatIEC(layer.disk) : 'not on disk'];
  if (sharedBy >= 2) lines.push(`shared by ${sharedBy} images`);
  return lines;
}

function blobLabel(b: ContentReport, sharedBy: number): string[] {
  const lines = [`${shortId(b.digest)} ${blobKind(b.mediaType)}`, formatIEC(b.disk)];
  if (sharedBy >= 2) lines.push(`shared by ${sharedBy} images`);
  return lines;
}

function containerLabel(c: ContainerReport): string[] {
  const lines = [c.name.replace(/^\//, '') || shortId(c.id), `${c.state || 'unknown'}, writable ${formatIEC(c.writable.disk)}`];
  if (c.copiedUp.disk > 0) lines.push(`copied up ${formatIEC(c.copiedUp.disk)}`);
  if (c.logs > 0) lines.push(`logs ${formatIEC(c.logs)}`);
  return lines;
}

export function renderDot(report: Report, opts: DotOptions = {}): string {
  const withContainers = opts.containers ?? true;
  const layers = new Map(report.layers.map((l) => [l.chainId, l]));
  const images = [...report.images].sort((a, b) => b.disk.unique - a.disk.unique || a.id.localeCompare(b.id));

  // How many listed images hold each layer, and the layer beneath it (the same in every image:
  // a chain id is the digest of the whole stack below it).
  const holders = new Map<string, number>();
  const below = new Map<string, string | null>();
  const order: string[] = [];
  for (const i of images) {
    i.layers.forEach((chain, pos) => {
      if (!holders.has(chain)) order.push(chain);
      holders.set(chain, (holders.get(chain) ?? 0) + 1);
      if (!below.has(chain)) below.set(chain, pos > 0 ? (i.layers[pos - 1] ?? null) : null);
    });
  }
  const sharedCount = order.filter((c) => (holders.get(c) ?? 0) >= 2).length;
  const held = order.reduce((s, c) => s + (layers.get(c)?.disk ?? 0), 0);
  const naive = images.reduce((s, i) => s + i.disk.total, 0);

  // The content blobs listed images hold (the containerd store; none on graphdriver), each once:
  // in the order the images come, an image's own by kind (manifest, config, layers), then digest.
  const listed = new Set(images.map((i) => i.id));
  const blobsOf = new Map<string, ContentReport[]>();
  const blobHolders = new Map<string, number>();
  const byKind = (a: ContentReport, b: ContentReport) =>
    KIND_ORDER.indexOf(blobKind(a.mediaType)) - KIND_ORDER.indexOf(blobKind(b.mediaType)) || (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0);
  for (const b of [...report.content].sort(byKind)) {
    const holders = [...new Set(b.images)].filter((id) => listed.has(id));
    if (holders.length === 0) continue;
    blobHolders.set(b.digest, holders.length);
    for (const id of holders) blobsOf.set(id, [...(blobsOf.get(id) ?? []), b]);
  }
  const blobOrder: ContentReport[] = [];
  const placed = new Set<string>();
  for (const i of images) {
    for (const b of blobsOf.get(i.id) ?? []) {
      if (placed.has(b.digest)) continue;
      placed.add(b.digest);
      blobOrder.push(b);
    }
  }
  const sharedBlobs = blobOrder.filter((b) => (blobHolders.get(b.digest) ?? 0) >= 2).length;
  const heldBlobs = blobOrder.reduce((s, b) => s + b.disk, 0);

  const counts = `${plural(images.length, 'image')}, ${plural(order.length, 'layer')} (${sharedCount} shared)` +
    (blobOrder.length > 0 ? `, ${plural(blobOrder.length, 'blob')} (${sharedBlobs} shared)` : '');
  const title = [
    `layerdu: image layer sharing on ${report.dockerRoot} (${report.driver.name})`,
    `${counts}: ${formatIEC(held + heldBlobs)} on disk, ${formatIEC(naive)} if every image held its own copy`,
  ];

  const out: string[] = [];
  out.push('// The sharing graph of layerdu --report --format dot; render with: dot -Tsvg -o graph.svg');
  out.push('digraph layerdu {');
  out.push(`  graph ${attrs({ rankdir: 'TB', label: label(title), labelloc: 't', fontname: FONT, fontsize: 14, nodesep: 0.3, ranksep: 0.45 })};`);
  out.push(`  node ${attrs({ shape: 'box', style: 'rounded,filled', fontname: FONT, fontsize: 10, fillcolor: COLORS.layer.fill, color: COLORS.layer.border })};`);
  out.push(`  edge ${attrs({ color: COLORS.edge, arrowsize: 0.6 })};`);

  if (withContainers && report.containers.length > 0) {
    out.push('');
    out.push('  // containers, each attached to its image');
    for (const c of [...report.containers].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id))) {
      out.push(`  ${containerNode(c.id)} ${attrs({ label: label(containerLabel(c)), shape: 'box', style: 'filled', fillcolor: COLORS.container.fill, color: COLORS.container.border })};`);
    }
  }

  out.push('');
  out.push('  // listed images: tags, unique and total disk bytes');
  for (const i of images) {
    out.push(`  ${imageNode(i.id)} ${attrs({ label: label(imageLabel(i)), fillcolor: COLORS.image.fill, color: COLORS.image.border, penwidth: 1.5 })};`);
  }
  if (images.length > 1) out.push(`  { rank=same; ${images.map((i) => imageNode(i.id)).join('; ')}; }`);

  out.push('');
  out.push('  // layers: short chain id and disk bytes; shared ones stand out');
  for (const chain of order) {
    const n = holders.get(chain) ?? 0;
    const text = label(layerLabel(chain, layers.get(chain), n));
    if (n >= 2) {
      out.push(`  ${layerNode(chain)} ${attrs({ label: text, fillcolor: COLORS.shared.fill, color: COLORS.shared.border, penwidth: 2.5, fontname: `${FONT}-Bold` })};`);
    } else {
      out.push(`  ${layerNode(chain)} ${attrs({ label: text })};`);
    }
  }

  if (blobOrder.length > 0) {
    out.push('');
    out.push('  // blobs (containerd store): short digest, kind and disk bytes; shared ones stand out');
    for (const b of blobOrder) {
      const n = blobHolders.get(b.digest) ?? 0;
      const text = label(blobLabel(b, n));
      if (n >= 2) {
        out.push(`  ${blobNode(b.digest)} ${attrs({ label: text, shape: 'note', style: 'filled', fillcolor: COLORS.shared.fill, color: COLORS.shared.border, penwidth: 2.5, fontname: `${FONT}-Bold` })};`);
      } else {
        out.push(`  ${blobNode(b.digest)} ${attrs({ label: text, shape: 'note', style: 'filled', fillcolor: COLORS.blob.fill, color: COLORS.blob.border })};`);
      }
    }
  }

  out.push('');
  out.push('  // edges: container -> image -> top layer -> ... -> bottom layer');
  if (withContainers) {
    for (const c of [...report.containers].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id))) {
      if (listed.has(c.imageId)) out.push(`  ${containerNode(c.id)} -> ${imageNode(c.imageId)} ${attrs({ style: 'dashed', color: COLORS.container.border })};`);
    }
  }
  for (const i of images) {
    const top = i.layers[i.layers.length - 1];
    if (top !== undefined) out.push(`  ${imageNode(i.id)} -> ${layerNode(top)} ${attrs({ color: COLORS.image.border })};`);
  }
  for (const i of images) {
    // image -> each blob it holds; to a shared blob, bold as the shared layer path is
    for (const b of blobsOf.get(i.id) ?? []) {
      const shared = (blobHolders.get(b.digest) ?? 0) >= 2;
      out.push(`  ${imageNode(i.id)} -> ${blobNode(b.digest)} ${attrs(shared ? { style: 'dotted', color: COLORS.shared.border, penwidth: 2 } : { style: 'dotted', color: COLORS.blob.border })};`);
    }
  }
  for (const chain of order) {
    const lower = below.get(chain);
    if (!lower) continue;
    // the layer beneath a shared layer is shared too: the path they share is drawn bold
    const bold = (holders.get(chain) ?? 0) >= 2;
    out.push(`  ${layerNode(chain)} -> ${layerNode(lower)}${bold ? ` ${attrs({ color: COLORS.shared.border, penwidth: 2 })}` : ''};`);
  }
  out.push('}');
  return `${out.join('\n')}\n`;
}
