// Images of the containerd store: meta.db names point at target blobs (an index or a manifest);
// the image id Docker shows is the target digest. An image holds its present target, manifest,
// config and layer blobs, and every snapshot on its top snapshot's parent chain (`-init`
// snapshots of classic builds included).
import type { ImageFact, Problem } from '../../lib/facts.js';
import { chainIds } from '../../lib/oci.js';
import { parseConfigDiffIds, parseTargetDoc } from './manifests.js';
import type { NamespaceMeta } from './meta-db.js';

export interface Blobs {
  /** Whether the blob's file is in the content store. */
  present(digest: string): boolean;
  /** A present blob's text, or null when it cannot be read (the problem is the reader's to name). */
  text(digest: string): Promise<string | null>;
}

/** Docker's build intermediates and untagged images are named `moby-dangling@<digest>`. */
const DANGLING = /^moby-dangling@/;
const CONFIG_REF = /^sha256:[0-9a-f]{64}$/;

/** `docker.io/library/base:latest` is what Docker shows as `base:latest`. */
export function shortName(name: string): string {
  return name.replace(/^docker\.io\/library\//, '').replace(/^docker\.io\//, '');
}

export interface ContainerdImage extends ImageFact {
  namespace: string;
  /** The snapshot keys of the image's chain, bottom first (also `layerKeys`). */
  layerKeys: string[];
  blobs: string[];
  /** Chain id to diff id, for the layers' records. */
  diffOfChain: Map<string, string>;
  /** What the descriptors say each held blob is. */
  mediaTypes: Map<string, string>;
  /** Chain id to the present layer blob unpacked into it: the layer's tar, its opaque markers in it. */
  blobOfChain: Map<string, { digest: string; mediaType: string | null }>;
}

/** The snapshot keys from `top` down its parent links, bottom first; stops at a loop or a gap. */
export function parentChain(top: string, parentOf: (key: string) => string | null | undefined): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (let k: string | null | undefined = top; k && !seen.has(k); k = parentOf(k)) {
    if (parentOf(k) === undefined) break; // not recorded: not unpacked
    seen.add(k);
    out.push(k);
  }
  return out.reverse();
}

export async function readImages(ns: NamespaceMeta, blobs: Blobs, problems: Problem[], where: string): Promise<ContainerdImage[]> {
  const snapshots = ns.snapshots.get('overlayfs') ?? new Map();
  const parentOf = (key: string) => (snapshots.has(key) ? (snapshots.get(key)!.parent ?? null) : undefined);
  const byTarget = new Map<string, { names: string[]; mediaType: string | null; parent: string | null }>();
  for (const rec of ns.images.values()) {
    if (!rec.digest) continue;
    const entry = byTarget.get(rec.digest) ?? { names: [], mediaType: rec.mediaType, parent: null };
    entry.names.push(rec.name);
    entry.parent ??= rec.labels.get('org.mobyproject.image.parent') ?? null;
    byTarget.set(rec.digest, entry);
  }
  // Each blob is read and parsed once: a manifest or config that several images (or an index and
  // a name of its own) point at is named once when it cannot be read.
  const memo = new Map<string, Promise<unknown>>();
  const read = <T>(digest: string, what: string, parse: (text: string) => T): Promise<T | null> => {
    const key = `${what} ${digest}`;
    let doc = memo.get(key) as Promise<T | null> | undefined;
    if (doc === undefined) {
      doc = (async () => {
        const text = blobs.present(digest) ? await blobs.text(digest) : null;
        if (text === null) return null;
        try {
          return parse(text);
        } catch (e) {
          problems.push({ path: `${where} ${digest}`, message: `${what} unreadable: ${(e as Error).message}` });
          return null;
        }
      })();
      memo.set(key, doc);
    }
    return doc;
  };
  const targetDoc = (digest: string) => read(digest, 'manifest', (t) => parseTargetDoc(t, null));
  const configDoc = (digest: string) => read(digest, 'config', parseConfigDiffIds);
  const images: ContainerdImage[] = [];
  for (const [id, t] of [...byTarget].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const held = new Set<string>();
    const keys: string[] = [];
    const diffOfChain = new Map<string, string>();
    const mediaTypes = new Map<string, string>();
    const blobOfChain = new Map<string, { digest: string; mediaType: string | null }>();
    const note = (d: { digest: string; mediaType: string | null }) => d.mediaType && mediaTypes.set(d.digest, d.mediaType);
    if (t.mediaType) mediaTypes.set(id, t.mediaType);
    let firstDiffIds: string[] | null = null;
    const target = await targetDoc(id);
    if (target) held.add(id);
    // A multi-platform index: every platform whose manifest is present counts.
    const manifests = target?.kind === 'index' ? target.manifests : target ? [{ digest: id, mediaType: t.mediaType }] : [];
    for (const desc of manifests) {
      const m = desc.digest;
      const man = m === id ? target : await targetDoc(m);
      if (!man || man.kind !== 'manifest') continue;
      held.add(m);
      note(desc);
      const diffIds = await configDoc(man.config.digest);
      if (diffIds) held.add(man.config.digest);
      note(man.config);
      for (const l of man.layers) {
        if (!blobs.present(l.digest)) continue;
        held.add(l.digest);
        note(l);
      }
      if (!diffIds) continue;
      firstDiffIds ??= diffIds;
      const chain = chainIds(diffIds);
      chain.forEach((c, i) => diffOfChain.set(c, diffIds[i]!));
      // A manifest's layers are its config's diff ids, in order, compressed.
      if (man.layers.length === chain.length) {
        man.layers.forEach((l, i) => blobs.present(l.digest) && blobOfChain.set(chain[i]!, { digest: l.digest, mediaType: l.mediaType }));
      }
      for (const k of parentChain(chain[chain.length - 1] ?? '', parentOf)) if (!keys.includes(k)) keys.push(k);
    }
    // The CRI names each image three times: its tag, its digest and `sha256:<config>` (its id
    // to the kubelet), which is no tag.
    const names = t.names.filter((n) => !DANGLING.test(n) && !CONFIG_REF.test(n)).map(shortName).sort();
    images.push({
      id,
      parent: t.parent,
      diffIds: [...(firstDiffIds ?? [])],
      tags: names.filter((n) => !n.includes('@')),
      digests: names.filter((n) => n.includes('@')),
      created: null,
      layerKeys: keys,
      blobs: [...held],
      sizeBasis: 'disk',
      namespace: ns.name,
      diffOfChain,
      mediaTypes,
      blobOfChain,
    });
  }
  return images;
}
