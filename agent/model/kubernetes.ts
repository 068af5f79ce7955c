// A Kubernetes node's view beside the truth. The kubelet's `imagefs` used bytes are what the
// CRI reports: the usage of every snapshot in containerd's `k8s.io` namespace, which counts the
// containers' writable layers as image bytes and leaves out the compressed blobs the content
// store keeps beside the unpacked layers. The true image bytes are the image snapshots plus those
// blobs. Pure.
import type { ContainerReport, ContentReport, ImageReport, KubernetesReport, LayerReport } from './report.js';

/** The CRI's containerd namespace. */
export const K8S_NAMESPACE = 'k8s.io';

export function kubernetesReport(
  layers: LayerReport[],
  containers: ContainerReport[],
  images: ImageReport[],
  content: ContentReport[],
): KubernetesReport | null {
  const mine = containers.filter((c) => c.namespace === K8S_NAMESPACE);
  const myLayers = layers.filter((l) => l.namespace === K8S_NAMESPACE);
  const myImages = new Set(images.filter((i) => i.namespace === K8S_NAMESPACE).map((i) => i.id));
  if (mine.length === 0 && myLayers.length === 0 && myImages.size === 0) return null;
  const imageLayers = myLayers.reduce((s, l) => s + l.disk, 0);
  const containerLayers = mine.reduce((s, c) => s + c.writable.disk + c.init.disk, 0);
  // A blob is on disk once, however many namespaces' images hold it.
  const blobs = content.filter((b) => b.images.some((id) => myImages.has(id))).reduce((s, b) => s + b.disk, 0);
  return {
    namespace: K8S_NAMESPACE,
    pods: new Set(mine.flatMap((c) => (c.pod ? [c.pod] : []))).size,
    containers: mine.filter((c) => c.kind !== 'sandbox').length,
    sandboxes: mine.filter((c) => c.kind === 'sandbox').length,
    imagefs: { used: imageLayers + containerLayers, imageLayers, containerLayers },
    images: { layers: imageLayers, content: blobs, total: imageLayers + blobs },
  };
}
