// What an image's target blob says it holds: an index lists manifests (one per platform), a
// manifest names its config and layer blobs, a config names the diff ids whose chain ids key the
// unpacked snapshots. Pure parsers of the blobs' JSON; reading them is in ./index.ts.

export interface Descriptor {
  digest: string;
  mediaType: string | null;
}

export interface ManifestDoc {
  kind: 'manifest';
  config: Descriptor;
  layers: Descriptor[];
}

export interface IndexDoc {
  kind: 'index';
  manifests: Descriptor[];
}

const INDEX_TYPES = new Set([
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
]);

const DIGEST = /^sha256:[0-9a-f]{64}$/;

const descriptor = (d: unknown): Descriptor => {
  const { digest, mediaType } = (d ?? {}) as { digest?: unknown; mediaType?: unknown };
  if (typeof digest !== 'string' || !DIGEST.test(digest)) throw new Error('a descriptor without a valid digest');
  return { digest, mediaType: typeof mediaType === 'string' ? mediaType : null };
};

/** An index or a manifest (OCI or Docker schema 2), from its JSON and its recorded media type. */
export function parseTargetDoc(text: string, mediaType: string | null): ManifestDoc | IndexDoc {
  const doc = JSON.parse(text) as { mediaType?: unknown; manifests?: unknown; config?: unknown; layers?: unknown } | null;
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new Error('not a JSON object');
  const type = typeof doc.mediaType === 'string' ? doc.mediaType : mediaType;
  if ((type && INDEX_TYPES.has(type)) || (Array.isArray(doc.manifests) && doc.config === undefined)) {
    if (!Array.isArray(doc.manifests)) throw new Error('an index without manifests');
    return { kind: 'index', manifests: doc.manifests.map(descriptor) };
  }
  if (!Array.isArray(doc.layers)) throw new Error('a manifest without layers');
  return { kind: 'manifest', config: descriptor(doc.config), layers: doc.layers.map(descriptor) };
}

/** The diff ids of an image config. */
export function parseConfigDiffIds(text: string): string[] {
  const doc = JSON.parse(text) as { rootfs?: { diff_ids?: unknown } };
  const ids = doc?.rootfs?.diff_ids;
  if (!Array.isArray(ids) || !ids.every((d) => typeof d === 'string' && DIGEST.test(d))) throw new Error('no valid rootfs.diff_ids');
  return ids as string[];
}
