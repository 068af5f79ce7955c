// The overview's Kubernetes row, for nodes where containerd holds the CRI's namespace: the
// kubelet's imagefs figure beside the true image bytes, and the pods by what removing one frees.
import { query, sel, type Board } from '../lib.js';
import { barGaugePanel, statPanel, tablePanel } from '../panels.js';
import { TOP } from './top.js';

export function kubernetesRow(b: Board): void {
  b.row('Kubernetes');
  b.add(
    barGaugePanel({
      title: "Kubelet's imagefs against the true image bytes",
      description:
        "What the kubelet's imagefs used bytes say (every snapshot of containerd's k8s.io namespace: the pods' writable layers counted as image bytes, the compressed blobs left out) beside the true image bytes (unpacked layers plus the blobs kept beside them).",
      width: 10,
      height: 8,
      unit: 'bytes',
      targets: [
        query('A', `sum by (instance) (${sel('layerdu_kubelet_imagefs_used_bytes')})`, { legend: 'kubelet imagefs {{instance}}', instant: true }),
        query('B', `sum by (instance) (${sel('layerdu_kubernetes_image_bytes')})`, { legend: 'true image bytes {{instance}}', instant: true }),
      ],
    }),
  );
  b.add(
    tablePanel({
      title: 'Pods by what removing them frees',
      description:
        "Each pod's sandbox and containers: writable layers, logs under the kubelet's pod log directory, and the image units only its images hold.",
      width: 10,
      height: 8,
      targets: [query('A', `topk(${TOP}, sum by (instance, name) (${sel('layerdu_owner_bytes', 'kind="k8s-pod"', 'scope!="images_shared"')}))`, { instant: true, table: true })],
      columns: { instance: 'Host', name: 'Pod', Value: 'Bytes' },
      units: { Value: 'bytes' },
      sortBy: 'Bytes',
    }),
  );
  b.add(
    statPanel({
      title: 'Pods, containers, sandboxes',
      description: 'Pods, their containers and their sandboxes (pause containers) that containerd records in the k8s.io namespace, over the hosts shown.',
      width: 4,
      height: 8,
      unit: 'short',
      targets: [
        query('A', `sum(${sel('layerdu_kubernetes_pods')})`, { legend: 'pods', instant: true }),
        query('B', `sum by (kind) (${sel('layerdu_kubernetes_containers')})`, { legend: '{{kind}}s', instant: true }),
      ],
    }),
  );
}
