// A docker root made by the test, not by a daemon: N images and M containers as the classic
// store records them (metadata only, each layer a tiny overlay2 directory), for the scale tests
// and bench. Scanned with the API unreachable, it reads as a host that ran them.
//   image/overlay2/repositories.json                      tags
//   image/overlay2/imagedb/content/sha256/<id>            config (rootfs.diff_ids); id = its sha256
//   image/overlay2/imagedb/metadata/sha256/<id>/lastUpdated
//   image/overlay2/layerdb/sha256/<chain>/{diff,cache-id,size[,parent]}
//   image/overlay2/layerdb/mounts/<container>/{mount-id,init-id,parent}
//   overlay2/<cache-id>/{diff/,link[,lower]}, overlay2/l/<short> -> ../<cache-id>/diff
//   containers/<id>/{config.v2.json,hostconfig.json,<id>-json.log}
//   volumes/<name>/_data/
// Every image holds one base layer, shared by all, and one layer of its own; container i runs
// image i mod N, belongs to compose project i mod 50, and one in 20 mounts a volume of its own.
import { createHash } from 'node:crypto';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mapLimit } from '../../collectors/lib/map-limit.js';

export interface FakeHostSpec {
  images: number;
  containers: number;
}

export interface FakeHost {
  root: string;
  imageIds: string[];
  chainIds: string[];
  containerIds: string[];
  volumes: string[];
  /** Which image each container runs (index into imageIds). */
  imageOf: (container: number) => number;
}

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const hexOf = (label: string, i: number) => sha(`${label}:${i}`);
export const PROJECTS = 50;
const indexes = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Bytes of layer i's one file: varied, so that the biggest are not the first listed. */
const layerBytes = (i: number) => 512 * (1 + ((i * 37) % 29));

/** overlay2's short name of a layer directory, in `l/` (26 characters; the daemon's are random). */
const shortOf = (cacheId: string) => sha(`link:${cacheId}`).slice(0, 26).toUpperCase();

async function layerDir(driver: string, cacheId: string, lower: string | null, files: Record<string, number>): Promise<void> {
  const dir = join(driver, cacheId);
  await mkdir(join(dir, 'diff'), { recursive: true });
  for (const [name, bytes] of Object.entries(files)) await writeFile(join(dir, 'diff', name), Buffer.alloc(bytes, 'x'));
  const short = shortOf(cacheId);
  await writeFile(join(dir, 'link'), short);
  if (lower) await writeFile(join(dir, 'lower'), `l/${lower}`);
  await symlink(`../${cacheId}/diff`, join(driver, 'l', short));
}

export async function writeFakeHost(root: string, spec: FakeHostSpec): Promise<FakeHost> {
  const img = join(root, 'image', 'overlay2');
  const driver = join(root, 'overlay2');
  for (const d of ['imagedb/content/sha256', 'imagedb/metadata/sha256', 'layerdb/sha256', 'layerdb/mounts']) await mkdir(join(img, d), { recursive: true });
  for (const d of [join(driver, 'l'), join(root, 'containers'), join(root, 'volumes')]) await mkdir(d, { recursive: true });

  // Layers: 0 is the base, i + 1 is image i's own.
  const layers = spec.images + 1;
  const diffIds = Array.from({ length: layers }, (_, i) => `sha256:${hexOf('diff', i)}`);
  const chainIds = diffIds.map((d, i) => (i === 0 ? d : `sha256:${sha(`${diffIds[0]} ${d}`)}`));
  const cacheIds = Array.from({ length: layers }, (_, i) => hexOf('cache', i));
  await mapLimit(indexes(layers), 32, async (i) => {
    const entry = join(img, 'layerdb', 'sha256', chainIds[i]!.slice(7));
    await mkdir(entry, { recursive: true });
    const bytes = layerBytes(i);
    await writeFile(join(entry, 'diff'), diffIds[i]!);
    await writeFile(join(entry, 'cache-id'), cacheIds[i]!);
    await writeFile(join(entry, 'size'), String(bytes));
    if (i > 0) await writeFile(join(entry, 'parent'), chainIds[0]!);
    await layerDir(driver, cacheIds[i]!, i > 0 ? shortOf(cacheIds[0]!) : null, { [`f${i}`]: bytes });
  });

  const imageIds: string[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  for (let i = 0; i < spec.images; i++) {
    const config = JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      created: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
      config: { Cmd: ['sh'] },
      rootfs: { type: 'layers', diff_ids: [diffIds[0], diffIds[i + 1]] },
    });
    const id = sha(config);
    imageIds.push(`sha256:${id}`);
    await writeFile(join(img, 'imagedb', 'content', 'sha256', id), config);
    await mkdir(join(img, 'imagedb', 'metadata', 'sha256', id), { recursive: true });
    await writeFile(join(img, 'imagedb', 'metadata', 'sha256', id, 'lastUpdated'), '2026-01-01T00:00:00Z');
    repositories[`scale/img${i}`] = { [`scale/img${i}:latest`]: `sha256:${id}` };
  }
  await writeFile(join(img, 'repositories.json'), JSON.stringify({ Repositories: repositories }));

  const imageOf = (c: number) => c % spec.images;
  const containerIds: string[] = [];
  const volumes: string[] = [];
  for (let c = 0; c < spec.containers; c++) {
    containerIds.push(hexOf('container', c));
    if (c % 20 === 0) volumes.push(`vol${c}`);
  }
  await mapLimit(indexes(spec.containers), 32, async (c) => {
    const id = containerIds[c]!;
    const mountId = hexOf('mount', c);
    const volume = c % 20 === 0 ? `vol${c}` : null;
    const dir = join(root, 'containers', id);
    await mkdir(dir, { recursive: true });
    const config = {
      ID: id,
      Name: `/c${c}`,
      Image: imageIds[imageOf(c)],
      State: { Running: c % 3 !== 0, Paused: false, Restarting: false, Dead: false, StartedAt: '2026-01-02T00:00:00Z', FinishedAt: '0001-01-01T00:00:00Z' },
      Driver: 'overlay2',
      MountPoints: volume ? { '/data': { Type: 'volume', Name: volume, Driver: 'local', Destination: '/data', RW: true } } : {},
      Config: { Image: `scale/img${imageOf(c)}:latest`, Labels: { 'com.docker.compose.project': `proj${c % PROJECTS}`, 'com.docker.compose.service': `svc${c}` } },
    };
    await writeFile(join(dir, 'config.v2.json'), JSON.stringify(config));
    await writeFile(join(dir, 'hostconfig.json'), JSON.stringify({ LogConfig: { Type: 'json-file', Config: {} }, NetworkMode: 'none' }));
    await writeFile(join(dir, `${id}-json.log`), `{"log":"line ${c}\\n","stream":"stdout","time":"2026-01-02T00:00:00Z"}\n`.repeat(1 + (c % 7)));
    const mount = join(img, 'layerdb', 'mounts', id);
    await mkdir(mount, { recursive: true });
    await writeFile(join(mount, 'mount-id'), mountId);
    await writeFile(join(mount, 'init-id'), `${mountId}-init`);
    await writeFile(join(mount, 'parent'), chainIds[imageOf(c) + 1]!);
    await layerDir(driver, `${mountId}-init`, null, { '.dockerenv': 0 });
    await layerDir(driver, mountId, null, { [`w${c}`]: 512 * (1 + ((c * 13) % 17)) });
    if (volume) {
      await mkdir(join(root, 'volumes', volume, '_data'), { recursive: true });
      await writeFile(join(root, 'volumes', volume, '_data', 'v'), Buffer.alloc(4096 * (1 + (c % 5)), 'v'));
    }
  });
  return { root, imageIds, chainIds, containerIds, volumes, imageOf };
}
