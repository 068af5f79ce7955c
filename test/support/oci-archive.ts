// OCI image archives made without a registry or a daemon, for `ctr images import`: layers are
// gzip-compressed tars (made with the tar CLI, compressed with node:zlib), so the content store
// holds compressed blobs as it does for pulled images; an OCI config with rootfs.diff_ids, an OCI
// manifest, and index.json naming the image (`io.containerd.image.name`, and the tag as
// `org.opencontainers.image.ref.name`) in an oci-layout tar. Every byte follows from the inputs:
// fixed mtimes, owners and order in the tars, no gzip timestamp, random bytes from a seed.
import { createCipheriv, createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, mkdtemp, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { findExecutable, runBuffer } from './commands.js';
import type { Descriptor } from './containerd-ctr.js';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

const sha256 = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export interface OciLayer {
  /** The gzip blob: what the content store keeps. */
  blob: Buffer;
  /** Its descriptor in the manifest. */
  descriptor: Descriptor;
  /** sha256 of the uncompressed tar. */
  diffId: string;
}

export interface OciImage {
  /** e.g. docker.io/library/base:latest */
  name: string;
  layers: OciLayer[];
  config: { blob: Buffer; descriptor: Descriptor };
  manifest: { blob: Buffer; descriptor: Descriptor };
  diffIds: string[];
  /** The chain id of each layer, bottom first: the snapshot keys an unpack makes. */
  chainIds: string[];
}

/** `n` bytes that follow from `seed` alone (AES-256-CTR of zeros, keyed by sha256(seed)). */
export function seededBytes(seed: string, n: number): Buffer {
  const key = createHash('sha256').update(seed).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(n)), cipher.final()]);
}

/** A layer from a directory tree: a tar of it with fixed order, mtimes and owners, gzipped. */
export async function layerOf(dir: string): Promise<OciLayer> {
  const tar = await runBuffer('tar', [
    '--sort=name', '--mtime=@0', '--numeric-owner', '--owner=0', '--group=0', '--format=gnu', '-C', dir, '-cf', '-', '.',
  ]);
  const blob = gzipSync(tar, { level: 6 });
  return { blob, diffId: sha256(tar), descriptor: { mediaType: OCI_LAYER_GZIP, digest: sha256(blob), size: blob.length } };
}

/** Makes a tree in a temporary directory with `fill`, and returns its layer. */
async function layerFrom(fill: (dir: string) => Promise<void>): Promise<OciLayer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ldu-oci-'));
  try {
    await fill(dir);
    return await layerOf(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The host's static busybox as /bin/busybox, /bin/sh → busybox, and empty /dev /etc /proc /sys /tmp. */
export function busyboxLayer(): Promise<OciLayer> {
  const busybox = findExecutable('busybox');
  if (!busybox) throw new Error('busybox not found (apt-get install -y busybox-static)');
  return layerFrom(async (dir) => {
    for (const d of ['bin', 'dev', 'etc', 'proc', 'sys', 'tmp']) await mkdir(path.join(dir, d));
    await chmod(path.join(dir, 'tmp'), 0o1777);
    let real = busybox;
    try {
      real = path.resolve(path.dirname(busybox), await readlink(busybox));
    } catch {
      /* not a symlink */
    }
    await copyFile(real, path.join(dir, 'bin', 'busybox'));
    await chmod(path.join(dir, 'bin', 'busybox'), 0o755);
    await symlink('busybox', path.join(dir, 'bin', 'sh'));
  });
}

/** One file of `bytes` seeded random bytes at `/<file>`. */
export function randomFileLayer(file: string, bytes: number, seed: string): Promise<OciLayer> {
  return layerFrom(async (dir) => {
    await writeFile(path.join(dir, file), seededBytes(seed, bytes));
  });
}

function ociArch(): string {
  const arch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' };
  return arch[process.arch] ?? process.arch;
}

/** The chain ids of a stack of diff ids: chain(0) = diff(0), chain(n) = sha256(chain(n-1) + " " + diff(n)). */
export function chainIdsOf(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) out.push(out.length === 0 ? d : sha256(`${out[out.length - 1]} ${d}`));
  return out;
}

/** An image of these layers (bottom first), for this machine's platform. */
export function ociImage(name: string, layers: OciLayer[]): OciImage {
  const diffIds = layers.map((l) => l.diffId);
  const config = Buffer.from(
    JSON.stringify({
      created: '2026-01-01T00:00:00Z',
      architecture: ociArch(),
      os: 'linux',
      config: { Env: ['PATH=/bin'], Cmd: ['/bin/sh'] },
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: layers.map(() => ({ created: '2026-01-01T00:00:00Z', created_by: 'layerdu test/support/oci-archive.ts' })),
    }),
  );
  const configDesc = { mediaType: OCI_CONFIG, digest: sha256(config), size: config.length };
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: configDesc, layers: layers.map((l) => l.descriptor) }),
  );
  return {
    name,
    layers,
    config: { blob: config, descriptor: configDesc },
    manifest: { blob: manifest, descriptor: { mediaType: OCI_MANIFEST, digest: sha256(manifest), size: manifest.length } },
    diffIds,
    chainIds: chainIdsOf(diffIds),
  };
}

/** The blobs an image's manifest names, manifest first: what the content store holds for it. */
export function blobsOf(img: OciImage): Descriptor[] {
  return [img.manifest.descriptor, img.config.descriptor, ...img.layers.map((l) => l.descriptor)];
}

/** Writes the image as an oci-layout tar at `file` (what `ctr images import` reads). */
export async function writeOciArchive(img: OciImage, file: string): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ldu-oci-'));
  try {
    const blobs = path.join(dir, 'blobs', 'sha256');
    await mkdir(blobs, { recursive: true });
    const put = (digest: string, b: Buffer) => writeFile(path.join(blobs, digest.replace(/^sha256:/, '')), b);
    for (const l of img.layers) await put(l.descriptor.digest, l.blob);
    await put(img.config.descriptor.digest, img.config.blob);
    await put(img.manifest.descriptor.digest, img.manifest.blob);
    await writeFile(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    const tag = img.name.slice(img.name.lastIndexOf(':') + 1);
    const index = {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        {
          ...img.manifest.descriptor,
          platform: { architecture: ociArch(), os: 'linux' },
          annotations: { 'io.containerd.image.name': img.name, 'org.opencontainers.image.ref.name': tag },
        },
      ],
    };
    await writeFile(path.join(dir, 'index.json'), JSON.stringify(index));
    const tar = await runBuffer('tar', ['--sort=name', '--mtime=@0', '--numeric-owner', '--owner=0', '--group=0', '-C', dir, '-cf', '-', '.']);
    await writeFile(file, tar);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
