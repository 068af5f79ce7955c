// The classic image store: `image/<driver>/` (imagedb, layerdb) and the driver's layer
// directories (`overlay2/`, `vfs/dir/`, …) under the docker root.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { probeDType } from '../../host/dtype.js';
import type { ApiFacts, ImageFact, LayerFact, MountFact, Problem, RecordPath } from '../../lib/facts.js';
import { describeError } from '../../lib/errors.js';
import { mapLimit, READS_AT_ONCE } from '../../lib/map-limit.js';
import { walkFlags } from '../../walk/semantics.js';
import type { FoundStore, Inventory, Store, StoreContext, StoreDir } from '../store.js';
import { classifyDirs } from './classify.js';
import { readConfiguredDriver, readDriverCandidates, readOverlayAvailable } from './detect.js';
import { driverLayout, type DriverLayout } from './drivers.js';
import { readImages } from './imagedb.js';
import { readLayers, readMounts, settleImageLayers } from './layerdb.js';
import { readTextOrNull } from './read-text.js';
import { chooseDriver, driverVerdict, vfsDuplicateBytes, type DriverCandidate, type DriverEvidence } from './verdict.js';

/** What tells which driver is in use: the disk, daemon.json, /proc/filesystems and a d_type probe. */
async function readEvidence(ctx: StoreContext, problems: Problem[]): Promise<DriverEvidence> {
  const root = ctx.dockerRoot;
  let candidates: DriverCandidate[] | null = null;
  try {
    candidates = await readDriverCandidates(root);
  } catch (e) {
    // No `image/` is no classic store (a containerd-store host, or a daemon never started).
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') candidates = [];
    else problems.push({ path: join(root, 'image'), message: describeError(e) });
  }
  const real = await fsp.realpath(root).catch(() => root);
  const [configured, overlayAvailable] = await Promise.all([readConfiguredDriver(real, ctx.host), readOverlayAvailable(ctx.host)]);
  return { candidates, apiDriver: null, apiStatus: [], configured, overlayAvailable, probe: probeDType(real, { host: ctx.host }) };
}

const withApi = (e: DriverEvidence, api: ApiFacts | null): DriverEvidence => ({
  ...e,
  apiDriver: api?.driver ?? null,
  apiStatus: api?.driverStatus ?? [],
});

/** The driver's layer directories, its bookkeeping left out. */
async function listLayerDirs(base: string, layout: DriverLayout): Promise<string[]> {
  try {
    const entries = await fsp.readdir(base, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory() && !layout.bookkeeping.includes(e.name)).map((e) => e.name);
  } catch (e) {
    if (layout.measured?.madeWithFirstLayer && (e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/**
 * Walk order, so that the walkers finish together instead of one walking a big layer alone at
 * the end: what has no size to go by and may be big (orphans, build cache) first, image layers
 * by their entry count, biggest first, as their tar-split file tells it, and containers' thin
 * writable layers last, where they fill the gaps.
 */
function weightOf(role: StoreDir['role'], layer: LayerFact | undefined): number {
  if (role === 'image-layer') return layer?.tarSplitBytes ?? Infinity;
  return role === 'container-layer' || role === 'container-init' ? 0 : Infinity;
}

/** Directories the layer records name that the driver's directory does not hold. */
export function missingDirs(ids: ReadonlySet<string>, layers: LayerFact[], mounts: MountFact[]): string[] {
  const named = [...layers.map((l) => l.cacheId), ...mounts.flatMap((m) => [m.mountId, m.initId])];
  return [...new Set(named.filter((id): id is string => id !== null && !ids.has(id)))].sort();
}

/**
 * What Docker removes with each object besides its layer's content: layerdb's record and the rest
 * of the layer's directory (link, lower, work/) with its short link in `l/` (a 64-hex layer's
 * target is too long to live in the inode: a block each), a container's mount record and its two
 * layer directories, an image's config and metadata.
 */
async function recordsOf(imageDir: string, base: string, layout: DriverLayout, content: (base: string, id: string) => string, layers: LayerFact[], mounts: MountFact[], images: ImageFact[]): Promise<RecordPath[]> {
  const links = layout.bookkeeping.includes('l');
  const shortLinks = new Map<string, string | null>();
  if (links) {
    const ids = [...layers.map((l) => l.cacheId), ...mounts.flatMap((m) => [m.mountId, m.initId])].filter((id): id is string => id !== null);
    await mapLimit(ids, READS_AT_ONCE, async (id) => shortLinks.set(id, (await readTextOrNull(join(base, id, 'link')))?.trim() || null));
  }
  const rest = (key: string, id: string): RecordPath[] => {
    const whole = join(base, id);
    const inner = content(base, id);
    const link = shortLinks.get(id);
    return [
      ...(inner === whole ? [] : [{ key, path: whole, skip: inner }]),
      ...(link && !link.includes('/') ? [{ key, path: join(base, 'l', link) }] : []),
    ];
  };
  const hex = (digest: string) => digest.replace(/^sha256:/, '');
  return [
    ...layers.flatMap((l) => [{ key: `layer:${l.chainId}`, path: join(imageDir, 'layerdb', 'sha256', hex(l.chainId)) }, ...(l.cacheId ? rest(`layer:${l.chainId}`, l.cacheId) : [])]),
    ...mounts.flatMap((m) => [
      { key: `container:${m.containerId}`, path: join(imageDir, 'layerdb', 'mounts', m.containerId) },
      ...rest(`container:${m.containerId}`, m.mountId),
      ...(m.initId ? rest(`container:${m.containerId}`, m.initId) : []),
    ]),
    ...images.flatMap((i) => ['content', 'metadata'].map((part) => ({ key: `image:${i.id}`, path: join(imageDir, 'imagedb', part, 'sha256', hex(i.id)) }))),
  ];
}

function found(evidence: DriverEvidence, name: string | null, dockerRoot: string): FoundStore {
  const layout = name ? driverLayout(name) : undefined;
  const measured = layout?.measured ?? null;
  const base = join(dockerRoot, ...(layout?.dir ?? [name ?? '']));
  const imageDir = join(dockerRoot, 'image', name ?? 'overlay2');
  return {
    store: 'graphdriver',
    driver: name,
    root: base,
    // Docker keeps the classic store of the driver it runs; the scan settles it against another store.
    active: true,
    changedMs: Math.max(...(evidence.candidates ?? []).filter((c) => c.name === name).map((c) => c.metadataMtimeMs ?? -Infinity), -Infinity),
    async inventory(ctx): Promise<Inventory> {
      const { collect } = ctx;
      const imagesRead = collect('image-metadata', (p) => readImages(imageDir, p), []);
      const layersRead = collect('layer-metadata', (p) => readLayers(imageDir, p), []);
      // Read side by side while the daemon writes: an image and its layers are settled together.
      const settled = Promise.all([imagesRead, layersRead]).then(([images, layers]) =>
        collect('layer-metadata', (p) => settleImageLayers(imageDir, images, layers, p), { images, layers }),
      );
      const mountsRead = collect('layer-metadata', (p) => readMounts(imageDir, p), []);
      const [{ images, layers }, mounts, ids, buildCacheIds] = await Promise.all([
        settled,
        mountsRead,
        collect('layer-walker', async (p): Promise<string[] | null> => {
          if (!layout || !measured) return null;
          let listed: string[];
          try {
            listed = await listLayerDirs(base, layout);
          } catch (e) {
            p.push({ path: base, message: describeError(e) });
            return null;
          }
          // A record whose directory is not there would be a silent 0: name it.
          for (const id of missingDirs(new Set(listed), (await settled).layers, await mountsRead)) {
            p.push({ path: join(base, id), message: 'recorded layer directory missing: its bytes count as 0 (removed during the scan, or lost)' });
          }
          return listed;
        }, null),
        ctx.buildCacheIds,
      ]);
      const roots = [imageDir, ...(measured ? [base] : [])];
      if (!measured || !ids) return { images, layers, mounts, dirs: [], roots };
      const layerOfDir = new Map(layers.filter((l) => l.cacheId).map((l) => [l.cacheId!, l]));
      const dirs: StoreDir[] = [...classifyDirs(ids, layers, mounts, buildCacheIds)].map(([id, role]) => {
        const layer = role === 'image-layer' ? layerOfDir.get(id) : undefined;
        const flags = walkFlags(measured.entries, role, !!layer?.parent);
        return {
          id,
          role,
          // Layers are measured by their content, as Docker and du of `diff/` see them; what
          // nothing refers to is measured whole, since removing it would free the whole directory.
          path: role === 'orphan' || role === 'build-cache' ? join(base, id) : measured.content(base, id),
          weight: weightOf(role, layer),
          cacheKey: layer ? `${layer.chainId}@${id}` : null,
          ...(layer ? { record: `size=${layer.size ?? ''}` } : {}),
          ...(role === 'orphan' ? { kind: 'layer-dir' as const } : {}),
          // An overlay `-init` layer holds the dozen entries Docker writes (/.dockerenv, /etc/hosts…).
          ...(role === 'container-init' && measured.entries === 'overlay' ? { entries: 16 } : {}),
          ...flags,
          // Layerdb keeps the layer tar's headers, its `.wh..wh..opq` markers among them.
          ...(flags.opaque && layer ? { opaqueRecord: { format: 'tar-split' as const, file: join(imageDir, 'layerdb', ...layer.chainId.split(':'), 'tar-split.json.gz') } } : {}),
        };
      });
      return { images, layers, mounts, dirs, roots, records: await recordsOf(imageDir, base, layout!, measured.content, layers, mounts, images) };
    },
    verdict(api, inv, dirs) {
      const fact = driverVerdict(withApi(evidence, api), name, measured !== null);
      return fact.name === 'vfs' ? { ...fact, vfsDuplicateBytes: vfsDuplicateBytes(inv.layers, inv.mounts, dirs) } : fact;
    },
  };
}

export const graphdriverStore: Store = {
  name: 'graphdriver',
  async detect(ctx) {
    const fallback: DriverEvidence = { candidates: null, apiDriver: null, apiStatus: [], configured: null, overlayAvailable: null, probe: null };
    const evidence = await ctx.collect('storage-driver', (p) => readEvidence(ctx, p), fallback);
    let choice = chooseDriver(evidence);
    // Only when the disk shows no driver at all does the choice wait for the API.
    if (choice.source !== 'disk') {
      const api = await ctx.api();
      // A daemon on the containerd store names its snapshotter: no classic store to read.
      if (api?.driverStatus.some(([k, v]) => k === 'driver-type' && v.startsWith('io.containerd.snapshotter'))) return null;
      choice = chooseDriver(withApi(evidence, api));
    }
    if (choice.name === null) return null;
    return found(evidence, choice.name, ctx.dockerRoot);
  },
};
