// The content store of the containerd fixture's host as readImages sees it (a `Blobs`): every blob
// file the recorded host had (test/fixtures/containerd/expected.json), each image's manifest as it
// was, and configs holding the diff ids expected.json gives; and fake content stores of literals.
import type { Blobs } from '../../collectors/stores/containerd/images.js';
import { expected } from './containerd-fixture.js';

/** Blobs whose texts are given; `present` also holds files whose text must not be needed. */
export function fakeBlobs(texts: Map<string, string>, present: Iterable<string> = texts.keys()) {
  const files = new Set(present);
  const reads: string[] = [];
  const blobs: Blobs = {
    present: (d) => files.has(d),
    text: async (d) => {
      reads.push(d);
      return texts.get(d) ?? null;
    },
  };
  return { blobs, reads };
}

export const configText = (diffIds: string[]) => JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffIds } });

/** The recorded host's content store: the manifests as they were, configs with their diff ids. */
export function hostBlobs() {
  const texts = new Map<string, string>();
  for (const i of expected.images) {
    texts.set(i.id, JSON.stringify(i.manifest));
    texts.set(i.manifest.config.digest, configText(i.diffIds));
  }
  return fakeBlobs(texts, Object.keys(expected.disk.blobs));
}

