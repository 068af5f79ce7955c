// What BuildKit holds in the containerd store besides images and containers: a lease per cache
// record (named by the record's 25-character id, with `-view` and `-variants` beside it) holds the
// record's snapshot and the blobs it exported or pulled; `docker builder prune` removes records,
// and without -a keeps those BuildKit calls shared (their layers' blobs are an image's). The build
// history (namespace `moby_history`) holds its own blobs, which no prune removes. Pure.
import type { HoldFact } from '../../lib/facts.js';
import type { ContainerdImage } from './images.js';
import { nsKey } from './keys.js';
import type { NamespaceMeta } from './meta-db.js';

const RECORD = /^([0-9a-z]{25})(-view|-variants)?$/;
const CONTAINER = /^[0-9a-f]{64}$/;

export interface HoldInputs {
  namespaces: NamespaceMeta[];
  images: ContainerdImage[];
  /** The unit a snapshot (by model key) or a blob (by digest) is, as the inventory classified it; none for others. */
  snapshotUnit: (key: string) => string | null;
  blobUnit: (digest: string) => string | null;
}

/** An image's layer blobs, bottom first: what BuildKit compares a record's chain with. */
export function imageChain(img: ContainerdImage): string[] {
  return img.layerKeys.flatMap((k) => {
    const b = img.blobOfChain.get(k);
    return b ? [b.digest] : [];
  });
}

export function buildHolds(f: HoldInputs): HoldFact[] {
  const out: HoldFact[] = [];
  // A layer blob of any image: a record holding one exported (or pulled) that layer.
  const layerBlobs = new Set(f.images.flatMap(imageChain));
  for (const ns of f.namespaces) {
    if (ns.name === 'moby_history') {
      for (const lease of ns.leases.values()) {
        out.push({ id: `history:${lease.id}`, kind: 'build-history', units: lease.content.flatMap((d) => f.blobUnit(d) ?? []), chain: [] });
      }
      continue;
    }
    const snapshots = ns.snapshots.get('overlayfs') ?? new Map();
    const mine = f.images.filter((i) => i.namespace === ns.name);
    const records = new Map<string, { snapshots: string[]; content: string[] }>();
    for (const lease of ns.leases.values()) {
      const m = RECORD.exec(lease.id);
      if (!m || CONTAINER.test(lease.id)) continue;
      const r = records.get(m[1]!) ?? { snapshots: [], content: [] };
      r.snapshots.push(...(lease.snapshots.get('overlayfs') ?? []));
      r.content.push(...lease.content);
      records.set(m[1]!, r);
    }
    const ownBlob = new Map([...records].map(([id, r]) => [id, [...new Set(r.content.filter((d) => layerBlobs.has(d)))]]));
    // The blobs of the layers under a snapshot, bottom first: an image layer's are its image's up
    // to it; a record's are its parent's and the layer it exported, if any.
    const memo = new Map<string, string[]>();
    const chainOf = (key: string, depth = 0): string[] => {
      const known = memo.get(key);
      if (known) return known;
      let chain: string[] = [];
      const img = mine.find((i) => i.layerKeys.includes(key));
      if (img) chain = imageChain({ ...img, layerKeys: img.layerKeys.slice(0, img.layerKeys.indexOf(key) + 1) });
      else if (depth < 1000) {
        const parent = snapshots.get(key)?.parent;
        const base = parent ? chainOf(parent, depth + 1) : [];
        const own = (ownBlob.get(key) ?? []).filter((d) => !base.includes(d));
        chain = [...base, ...own];
      }
      memo.set(key, chain);
      return chain;
    };
    for (const [id, r] of records) {
      const units = [
        ...r.snapshots.flatMap((k) => f.snapshotUnit(nsKey(ns.name, k)) ?? []),
        ...r.content.flatMap((d) => f.blobUnit(d) ?? []),
      ];
      const top = r.snapshots.find((k) => !k.endsWith('-view')) ?? null;
      out.push({ id: nsKey(ns.name, id), kind: 'build-record', units: [...new Set(units)], chain: top ? chainOf(top) : [] });
    }
  }
  return out;
}
