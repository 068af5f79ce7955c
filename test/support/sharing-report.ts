// A small report for the renderers' tests: nginx and app share two layers, app adds one, lonely
// is one layer alone, and one container runs on nginx; app's tag is made to break quoting.
import type { Report } from '../../agent/model/report.js';

const MiB = 1024 * 1024;
export const NGINX = `sha256:${'a'.repeat(64)}`;
export const APP = `sha256:${'b'.repeat(64)}`;
export const LONELY = `sha256:${'e'.repeat(64)}`;
export const L1 = `sha256:${'1'.repeat(64)}`;
export const L2 = `sha256:${'2'.repeat(64)}`;
export const L3 = `sha256:${'3'.repeat(64)}`;
export const L4 = `sha256:${'4'.repeat(64)}`;
export const WEB = 'c'.repeat(64);
export const NASTY_TAG = 'evil"repo\\x:1\n2';

// nginx and app share L1 (the base, 80 MiB) and L2 (10 MiB); app adds L3; lonely is L4 alone.
export function report(): Report {
  const zero = { imageLayers: 0, imageContent: 0, containerLayers: 0, volumes: 0, logs: 0, buildCache: 0, orphans: 0, other: 0, total: 0 };
  return {
    dockerRoot: '/var/lib/docker',
    apiUp: true,
    driver: { name: 'overlay2', store: 'graphdriver', backingFs: 'ext4', dType: true, vfsFallback: false, reason: '' },
    stores: [],
    filesystem: null,
    images: [
      {
        id: NGINX,
        tags: ['nginx:1.25', 'nginx:latest'],
        layers: [L1, L2],
        disk: { total: 90 * MiB, shared: 90 * MiB, unique: 0 },
        apparent: { total: 90 * MiB, shared: 90 * MiB, unique: 0 },
        content: { disk: 0, apparent: 0 },
        wasted: { disk: 0, apparent: 0 },
        containers: 1,
        rmi: { disk: 0, apparent: 0 },
      },
      {
        id: APP,
        tags: [NASTY_TAG],
        layers: [L1, L2, L3],
        disk: { total: 390 * MiB, shared: 90 * MiB, unique: 300 * MiB },
        apparent: { total: 380 * MiB, shared: 90 * MiB, unique: 290 * MiB },
        content: { disk: 0, apparent: 0 },
        wasted: { disk: 3 * MiB, apparent: 3 * MiB },
        containers: 0,
        rmi: { disk: 0, apparent: 0 },
      },
      {
        id: LONELY,
        tags: [],
        layers: [L4],
        disk: { total: 1536, shared: 0, unique: 1536 },
        apparent: { total: 1000, shared: 0, unique: 1000 },
        content: { disk: 0, apparent: 0 },
        wasted: { disk: 0, apparent: 0 },
        containers: 0,
        rmi: { disk: 0, apparent: 0 },
      },
    ],
    content: [],
    layers: [
      { chainId: L1, diffId: 'sha256:d1', cacheId: 'c1', disk: 80 * MiB, apparent: 80 * MiB, images: [NGINX, APP], containers: [WEB] },
      { chainId: L2, diffId: 'sha256:d2', cacheId: 'c2', disk: 10 * MiB, apparent: 10 * MiB, images: [NGINX, APP], containers: [WEB] },
      { chainId: L3, diffId: 'sha256:d3', cacheId: 'c3', disk: 300 * MiB, apparent: 290 * MiB, images: [APP], containers: [] },
      { chainId: L4, diffId: 'sha256:d4', cacheId: 'c4', disk: 1536, apparent: 1000, images: [LONELY], containers: [] },
    ],
    containers: [
      {
        id: WEB,
        name: '/web',
        imageId: NGINX,
        state: 'running',
        writable: { disk: 4 * MiB, apparent: 4 * MiB },
        init: { disk: 0, apparent: 0 },
        copiedUp: { disk: 2 * MiB, apparent: 2 * MiB },
        logs: 12 * 1024,
        logsApparent: 12 * 1024,
      },
    ],
    volumes: [],
    owners: [],
    orphans: [],
    buildCache: { disk: 0, apparent: 0, dirs: 0 },
    reclaim: [],
    totals: { disk: zero, apparent: zero, naiveVirtual: 0 },
    errors: [],
    scan: { startedAt: '2024-01-01T00:00:00Z', finishedAt: '2024-01-01T00:00:01Z', durationSeconds: 1, collectors: [], layersWalked: 4, layersReused: 0 },
  };
}

// The same host on the containerd store: each image also holds content blobs. nginx and app share
// the base layer's compressed blob; each has its own manifest and config (OCI for nginx, Docker's
// schema 2 for app); lonely is an index whose platform manifest was never pulled. Two blobs no
// listed image holds (a classic build's container config, an unlisted image's layer) draw nothing.
export const KiB = 1024;
export const M_NGINX = `sha256:${'5'.repeat(64)}`;
export const C_NGINX = `sha256:${'6'.repeat(64)}`;
export const B_BASE = `sha256:${'7'.repeat(64)}`;
export const M_APP = `sha256:${'8'.repeat(64)}`;
export const C_APP = `sha256:${'9'.repeat(64)}`;
export const B_APP = `sha256:${'f'.repeat(64)}`;
export const I_LONELY = `sha256:${'0'.repeat(64)}`;
export const UNHELD = `sha256:${'d'.repeat(64)}`;
export const UNLISTED = `sha256:${'ab'.repeat(32)}`;

export function containerdReport(): Report {
  const r = report();
  const blob = (digest: string, mediaType: string | null, disk: number, images: string[]) => ({ digest, mediaType, disk, apparent: disk - 100, images });
  return {
    ...r,
    driver: { name: 'overlayfs', store: 'containerd', backingFs: 'ext4', dType: true, vfsFallback: false, reason: '' },
    content: [
      blob(M_NGINX, 'application/vnd.oci.image.manifest.v1+json', 4 * KiB, [NGINX]),
      blob(C_NGINX, 'application/vnd.oci.image.config.v1+json', 4 * KiB, [NGINX]),
      blob(B_BASE, 'application/vnd.oci.image.layer.v1.tar+gzip', 30 * MiB, [NGINX, APP]),
      blob(M_APP, 'application/vnd.docker.distribution.manifest.v2+json', 4 * KiB, [APP]),
      blob(C_APP, 'application/vnd.docker.container.image.v1+json', 8 * KiB, [APP]),
      blob(B_APP, 'application/vnd.docker.image.rootfs.diff.tar.gzip', 100 * MiB, [APP]),
      blob(I_LONELY, 'application/vnd.oci.image.index.v1+json', 4 * KiB, [LONELY]),
      blob(UNHELD, null, 4 * KiB, []),
      blob(UNLISTED, 'application/vnd.oci.image.layer.v1.tar+gzip', 1 * MiB, [`sha256:${'9'.repeat(64)}`]),
    ],
  };
}
