import assert from 'node:assert/strict';
import { kubernetesReport } from '../../agent/model/kubernetes.js';
import type { ContainerReport, ContentReport, ImageReport, LayerReport } from '../../agent/model/report.js';

const K = 1024;
const layer = (chainId: string, namespace: string, disk: number): LayerReport => ({ chainId, snapshotId: chainId, namespace, disk, apparent: disk, images: [], containers: [] });
const bytes = (disk: number) => ({ disk, apparent: disk });
const container = (id: string, over: Partial<ContainerReport>): ContainerReport => ({
  id, name: id, imageId: '', state: 'unknown', writable: bytes(0), init: bytes(0), copiedUp: bytes(0), logs: 0, logsApparent: 0, ...over,
});
const image = (id: string, namespace: string): ImageReport => ({
  id, tags: [], layers: [], disk: { total: 0, shared: 0, unique: 0 }, apparent: { total: 0, shared: 0, unique: 0 }, content: bytes(0), wasted: bytes(0), containers: 0, namespace, rmi: bytes(0),
});
const blob = (digest: string, disk: number, images: string[]): ContentReport => ({ digest, mediaType: null, disk, apparent: disk, images });

describe("Kubernetes: the kubelet's imagefs beside the true image bytes", () => {
  it('imagefs is every k8s.io snapshot (container layers too, blobs left out); the truth is the image snapshots plus their blobs, each blob once', () => {
    const layers = [layer('k8s.io/base', 'k8s.io', 100 * K), layer('k8s.io/app', 'k8s.io', 40 * K), layer('base', 'moby', 100 * K)];
    const containers = [
      container('k8s.io/sb', { namespace: 'k8s.io', kind: 'sandbox', pod: 'shop/web', writable: bytes(8 * K) }),
      container('k8s.io/app', { namespace: 'k8s.io', kind: 'container', pod: 'shop/web', writable: bytes(24 * K) }),
      container('k8s.io/job', { namespace: 'k8s.io', kind: 'container', pod: 'batch/job', writable: bytes(4 * K) }),
      container('docker', { writable: bytes(1000 * K), init: bytes(4 * K) }),
    ];
    const images = [image('k8s.io/sha256:b', 'k8s.io'), image('sha256:b', 'moby')];
    // one blob both namespaces' images hold, one only moby's
    const content = [blob('sha256:1', 30 * K, ['k8s.io/sha256:b', 'sha256:b']), blob('sha256:2', 7 * K, ['sha256:b'])];
    assert.deepEqual(kubernetesReport(layers, containers, images, content), {
      namespace: 'k8s.io',
      pods: 2,
      containers: 2,
      sandboxes: 1,
      imagefs: { used: 140 * K + 36 * K, imageLayers: 140 * K, containerLayers: 36 * K },
      images: { layers: 140 * K, content: 30 * K, total: 170 * K },
    });
  });

  it('is absent on a host without the namespace', () => {
    assert.equal(kubernetesReport([layer('base', 'moby', K)], [container('docker', {})], [image('sha256:b', 'moby')], []), null);
  });
});
