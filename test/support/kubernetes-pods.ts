// A containerd-only Kubernetes node with pods, as the CRI would leave it, made without a kubelet,
// a CRI or a registry (test/e2e/kubernetes-node.test.ts checks the report of one against ctr and
// du; test/e2e/prometheus.test.ts scrapes an agent on a small one):
// - a private containerd alone (containerd-node.ts startContainerdNode);
// - two OCI archives built here (oci-archive.ts): `base` (busybox) and `second` (base's layer +
//   one of its own, seeded random bytes), gzip layers; both imported into `k8s.io` with
//   `ctr images import` and given the refs a CRI pull adds (repo digest, image id); those named
//   in `mobyImages` imported into `moby` as well (the same chain unpacked twice, one set of blobs);
// - each pod of a PodSpec table as containers with the CRI's labels, run with `ctr run` (no --rm:
//   each task exits and is deleted, the container record and its writable snapshot stay): a
//   sandbox if asked and the pod's containers, 64-hex ids, each container writing a known number of
//   bytes into its writable layer;
// - the kubelet's pod logs under a host prefix P: P/var/log/pods/<ns>_<pod>_<uid>/<name>/<file>
//   (a file ending in .gz gzipped, as the kubelet's rotation leaves it).
// agentArgs are the flags an agent on the node takes (as the DaemonSet runs it): --path.rootfs P,
// this machine's /proc and /sys, the containerd root, and a docker root that is missing (so no
// Docker API is asked).
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { inNamespace } from './containerd-ctr.js';
import { startContainerdNode, type ContainerdNode } from './containerd-node.js';
import { NO_API } from './containerd-report.js';
import { busyboxLayer, ociImage, randomFileLayer, seededBytes, writeOciArchive, type OciImage } from './oci-archive.js';

/** Docker's containerd namespace. */
export const MOBY = 'moby';
/** The bytes `second` adds on base's layer. */
export const SECOND_OWN_BYTES = 3 * 1024 * 1024;

export type NodeImageName = 'base' | 'second';
export type NodeImages = Record<NodeImageName, OciImage>;

export interface PodSpec {
  namespace: string;
  name: string;
  uid: string;
  sandbox: boolean;
  /** writes: bytes written into the writable layer; logs: log file name → bytes (before gzip). */
  containers: Array<{ name: string; image: NodeImageName; writes: number; logs: Record<string, number> }>;
}

/**
 * The pods of kubernetes-node.test.ts: shop/web (a sandbox and the containers app and sidecar),
 * shop/cache (one container on second), batch/job-1 (one); app has a rotated and a gzipped rotated
 * log beside its 0.log. A small node takes the first (shop/web).
 */
export const PODS: PodSpec[] = [
  {
    namespace: 'shop',
    name: 'web',
    uid: '0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0',
    sandbox: true,
    containers: [
      {
        name: 'app',
        image: 'base',
        writes: 300 * 1024,
        logs: { '0.log': 10_000, '0.log.20261201-101010': 20_000, '0.log.20261130-090909.gz': 6_000 },
      },
      { name: 'sidecar', image: 'base', writes: 120 * 1024, logs: { '0.log': 2_500 } },
    ],
  },
  {
    namespace: 'shop',
    name: 'cache',
    uid: '7a6b5c4d-3e2f-4102-9304-a5b6c7d8e9f0',
    sandbox: false,
    containers: [{ name: 'redis', image: 'second', writes: 200 * 1024, logs: { '0.log': 7_000 } }],
  },
  {
    namespace: 'batch',
    name: 'job-1',
    uid: 'c0ffee00-1234-4abc-8def-0123456789ab',
    sandbox: false,
    containers: [{ name: 'worker', image: 'base', writes: 50 * 1024, logs: { '0.log': 1_234 } }],
  },
];

/** One container as made: its CRI id, pod, and where its logs are. */
export interface MadeContainer {
  id: string;
  /** <namespace>/<name> */
  pod: string;
  kind: 'container' | 'sandbox';
  image: NodeImageName;
  writes: number;
  logFiles: string[];
}

export interface KubernetesNode {
  node: ContainerdNode;
  /** The containerd root. */
  root: string;
  /** The host prefix (--path.rootfs) the pod logs are under. */
  prefix: string;
  /** prefix/var/log/pods */
  podLogRoot: string;
  /** A docker root that does not exist. */
  missingDockerRoot: string;
  images: NodeImages;
  /** Every sandbox and container, in the order made. */
  made: MadeContainer[];
  /** The flags of an agent on this node (--path.rootfs … --docker-timeout 2). */
  agentArgs: string[];
}

export interface KubernetesNodeOptions {
  pods: PodSpec[];
  /** Images imported into the moby namespace too. Default none. */
  mobyImages?: NodeImageName[];
}

const hex64 = (seed: string) => createHash('sha256').update(`layerdu kubernetes-node ${seed}`).digest('hex');

/** Builds both images and imports them into k8s.io (with a CRI pull's refs) and the moby ones into moby. */
async function importImages(node: ContainerdNode, mobyImages: NodeImageName[]): Promise<NodeImages> {
  const bb = await busyboxLayer();
  const images: NodeImages = {
    base: ociImage('docker.io/library/base:latest', [bb]),
    second: ociImage('docker.io/library/second:latest', [bb, await randomFileLayer('second.bin', SECOND_OWN_BYTES, 'second')]),
  };
  const moby = inNamespace(node, MOBY);
  for (const [name, img] of Object.entries(images) as Array<[NodeImageName, OciImage]>) {
    const file = path.join(node.base, `${name}.oci.tar`);
    await writeOciArchive(img, file);
    await node.ctr(['images', 'import', file]);
    // A CRI pull names the image three ways: tag, repo digest and image id (its config digest).
    const repo = img.name.slice(0, img.name.lastIndexOf(':'));
    for (const ref of [`${repo}@${img.manifest.descriptor.digest}`, img.config.descriptor.digest]) {
      await node.ctr(['images', 'tag', img.name, ref]);
    }
  }
  for (const name of mobyImages) await moby.ctr(['images', 'import', path.join(node.base, `${name}.oci.tar`)]);
  return images;
}

/** Runs a pod's sandbox and containers to their end, and stages its containers' logs. */
async function runPod(node: ContainerdNode, images: NodeImages, podLogRoot: string, pod: PodSpec): Promise<MadeContainer[]> {
  const made: MadeContainer[] = [];
  const podLabels = [
    `io.kubernetes.pod.name=${pod.name}`, `io.kubernetes.pod.namespace=${pod.namespace}`, `io.kubernetes.pod.uid=${pod.uid}`,
  ];
  const podName = `${pod.namespace}/${pod.name}`;
  const runIt = async (id: string, image: OciImage, labels: string[], script: string) => {
    await node.ctr([
      'run', '--snapshotter', 'overlayfs', '--cgroup', node.cgroupPath(id),
      ...labels.flatMap((l) => ['--label', l]), image.name, id, '/bin/sh', '-c', script,
    ]);
  };
  if (pod.sandbox) {
    const id = hex64(`${podName} sandbox`);
    await runIt(id, images.base, ['io.cri-containerd.kind=sandbox', ...podLabels], 'exit 0');
    made.push({ id, pod: podName, kind: 'sandbox', image: 'base', writes: 0, logFiles: [] });
  }
  for (const c of pod.containers) {
    const id = hex64(`${podName} ${c.name}`);
    const kb = c.writes / 1024;
    await runIt(
      id,
      images[c.image],
      ['io.cri-containerd.kind=container', ...podLabels, `io.kubernetes.container.name=${c.name}`],
      `/bin/busybox dd if=/dev/urandom of=/${c.name}.bin bs=1024 count=${kb} 2>/dev/null`,
    );
    const dir = path.join(podLogRoot, `${pod.namespace}_${pod.name}_${pod.uid}`, c.name);
    await mkdir(dir, { recursive: true });
    const logFiles: string[] = [];
    for (const [file, bytes] of Object.entries(c.logs)) {
      const body = seededBytes(`${podName} ${c.name} ${file}`, bytes);
      await writeFile(path.join(dir, file), file.endsWith('.gz') ? gzipSync(body) : body);
      logFiles.push(path.join(dir, file));
    }
    made.push({ id, pod: podName, kind: 'container', image: c.image, writes: c.writes, logFiles });
  }
  return made;
}

/**
 * Starts a containerd node and makes its images and pods. Stop it with `.node.stop()` (or the root
 * hook's stopAllNodes); when making them fails, the node is stopped here.
 */
export async function startKubernetesNode(opts: KubernetesNodeOptions): Promise<KubernetesNode> {
  const node = await startContainerdNode();
  try {
    const root = node.containerd.root;
    const prefix = path.join(node.base, 'host');
    const podLogRoot = path.join(prefix, 'var', 'log', 'pods');
    const missingDockerRoot = path.join(node.base, 'no-docker-root');
    const images = await importImages(node, opts.mobyImages ?? []);
    const made: MadeContainer[] = [];
    for (const pod of opts.pods) made.push(...(await runPod(node, images, podLogRoot, pod)));
    const agentArgs = [
      // /proc and /sys are this machine's own, as the DaemonSet passes them (systemd/kubernetes/)
      '--path.rootfs', prefix, '--path.procfs', '/proc', '--path.sysfs', '/sys', '--containerd-root', root,
      '--docker-root', missingDockerRoot, '--docker-host', NO_API, '--docker-timeout', '2',
    ];
    return { node, root, prefix, podLogRoot, missingDockerRoot, images, made, agentArgs };
  } catch (e) {
    await node.stop().catch(() => undefined);
    throw e;
  }
}
