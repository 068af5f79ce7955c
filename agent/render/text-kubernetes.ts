// The text report's "Kubernetes" section: what the kubelet's imagefs figure says beside what the
// image bytes are, for a node where containerd holds the CRI's namespace.
import type { Report } from '../model/report.js';
import { formatIEC } from './units.js';

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function kubernetesSection(report: Report, bold: (s: string) => string): string[] {
  const k = report.kubernetes;
  if (!k) return [];
  return [
    bold(`Kubernetes (containerd namespace ${k.namespace}): ${plural(k.pods, 'pod')}, ${plural(k.containers, 'container')}, ${plural(k.sandboxes, 'sandbox', 'sandboxes')}`),
    `  kubelet imagefs used  ${formatIEC(k.imagefs.used).padStart(10)}  every snapshot: image layers ${formatIEC(k.imagefs.imageLayers)} + container layers ${formatIEC(k.imagefs.containerLayers)}`,
    `  true image bytes      ${formatIEC(k.images.total).padStart(10)}  image layers ${formatIEC(k.images.layers)} + compressed blobs ${formatIEC(k.images.content)}`,
    "The kubelet's figure counts the pods' writable layers as image bytes and leaves out the blobs the",
    'content store keeps beside the unpacked layers; per-pod figures are under Owners (k8s-pod).',
  ];
}
