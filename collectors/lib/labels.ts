// The labels that say who a container belongs to: Compose's, and those the CRI and the kubelet
// put on a Kubernetes node's containers (their records in containerd's `k8s.io` namespace).
export const COMPOSE_PROJECT = 'com.docker.compose.project';
export const COMPOSE_SERVICE = 'com.docker.compose.service';

/** `sandbox` (a pod's pause container) or `container`. */
export const CRI_KIND = 'io.cri-containerd.kind';
export const K8S_POD_NAMESPACE = 'io.kubernetes.pod.namespace';
export const K8S_POD_NAME = 'io.kubernetes.pod.name';
export const K8S_POD_UID = 'io.kubernetes.pod.uid';
export const K8S_CONTAINER_NAME = 'io.kubernetes.container.name';
