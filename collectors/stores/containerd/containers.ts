// Containers containerd records itself, outside Docker's namespace: the CRI's (a Kubernetes
// node's pods and their sandboxes) and `ctr run`'s. dockerd's records in `moby` exist only while
// a container runs and say nothing its config.v2.json does not, so Docker's containers are read
// from the docker root instead. Pure.
import type { ContainerFact } from '../../lib/facts.js';
import { CRI_KIND, K8S_CONTAINER_NAME, K8S_POD_NAME } from '../../lib/labels.js';
import type { ContainerdImage } from './images.js';
import { nsKey } from './keys.js';
import type { NamespaceMeta } from './meta-db.js';

export interface RecordedContainer {
  fact: ContainerFact;
  /** The model key of its writable snapshot; null when it has none on the overlayfs snapshotter. */
  snapshot: string | null;
}

export function recordedContainers(namespaces: NamespaceMeta[], images: ContainerdImage[]): RecordedContainer[] {
  const out: RecordedContainer[] = [];
  for (const ns of namespaces) {
    if (ns.name === 'moby') continue;
    const snapshots = ns.snapshots.get('overlayfs');
    const mine = images.filter((i) => i.namespace === ns.name);
    for (const rec of ns.containers.values()) {
      const labels = Object.fromEntries(rec.labels);
      const onOverlay = rec.snapshotKey !== null && (rec.snapshotter ?? 'overlayfs') === 'overlayfs' && snapshots?.has(rec.snapshotKey);
      // The image by the name the container was made from; once that name is gone (re-tagged,
      // removed), by the snapshot its writable layer sits on.
      const named = rec.image === null ? undefined : ns.images.get(rec.image)?.digest;
      const parent = onOverlay ? snapshots!.get(rec.snapshotKey!)?.parent : null;
      const image = named ?? mine.find((i) => parent && i.layerKeys[i.layerKeys.length - 1] === parent)?.id;
      const kind = labels[CRI_KIND] === 'sandbox' ? 'sandbox' : labels[CRI_KIND] === 'container' ? 'container' : undefined;
      out.push({
        fact: {
          id: nsKey(ns.name, rec.id),
          name: labels[K8S_CONTAINER_NAME] ?? (kind === 'sandbox' ? (labels[K8S_POD_NAME] ?? rec.id) : rec.id),
          imageId: image ? nsKey(ns.name, image) : '',
          // Whether its task runs is containerd's state directory's to say, not its metadata's.
          state: 'unknown',
          volumes: [],
          labels,
          logs: { disk: 0, apparent: 0 },
          logFiles: 0,
          logPaths: [],
          namespace: ns.name,
          ...(kind ? { kind } : {}),
          created: rec.createdAt,
        },
        snapshot: onOverlay ? nsKey(ns.name, rec.snapshotKey!) : null,
      });
    }
  }
  return out;
}
