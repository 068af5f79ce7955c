import assert from 'node:assert/strict';
import { parseBolt } from '../../collectors/lib/bbolt.js';
import type { Problem } from '../../collectors/lib/facts.js';
import { chainIds } from '../../collectors/lib/oci.js';
import { parentChain, readImages, shortName, type Blobs } from '../../collectors/stores/containerd/images.js';
import type { ImageRecord, NamespaceMeta, SnapshotRecord } from '../../collectors/stores/containerd/meta-db.js';
import { parseMetaDb } from '../../collectors/stores/containerd/meta-db.js';
import { configText, fakeBlobs, hostBlobs } from './containerd-blobs.js';
import { expected, fixture } from './containerd-fixture.js';

// readImages (collectors/stores/containerd/images.ts) on the fixture's meta.db, with the blobs the
// recorded host had (test/fixtures/containerd/expected.json: every blob file, each image's
// manifest and its config's diff ids), and on literal namespaces: a multi-platform index, names
// Docker hides, manifests that cannot be read.
const meta = parseMetaDb(parseBolt(fixture('meta.db')), []);
const moby = meta.namespaces.get('moby')!;
const img = (tag: string) => expected.images.find((i) => i.tag === tag)!;
const [base, classic, kit] = [img('base:latest'), img('classic:latest'), img('kit:latest')];
const WHERE = 'meta.db';
/** What GET /images/json said on the recorded host. */
const imagesJson = (expected as unknown as { docker: { imagesJson: Array<{ Id: string; RepoTags: string[] }> } }).docker.imagesJson;

async function read(ns: NamespaceMeta, blobs: Blobs) {
  const problems: Problem[] = [];
  const images = await readImages(ns, blobs, problems, WHERE);
  return { images, problems, byId: new Map(images.map((i) => [i.id, i])) };
}

const D = (c: string) => `sha256:${c.repeat(64)}`;
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';

function imageRecord(name: string, digest: string, mediaType: string, labels: Record<string, string> = {}): ImageRecord {
  return { name, digest, mediaType, size: 1, labels: new Map(Object.entries(labels)), annotations: new Map(), createdAt: null };
}

/** A namespace holding these image records and overlayfs snapshots ([key, parent]). */
function namespace(images: ImageRecord[], snapshots: Array<[string, string | null]> = [], name = 'moby'): NamespaceMeta {
  const snaps = new Map<string, SnapshotRecord>(
    snapshots.map(([key, parent], i) => [key, { key, backendKey: `${name}/${i + 1}/${key}`, parent, labels: new Map(), createdAt: null }]),
  );
  return {
    name,
    labels: new Map(),
    images: new Map(images.map((r) => [r.name, r])),
    blobs: new Map(),
    ingests: new Map(),
    snapshots: new Map([['overlayfs', snaps]]),
    leases: new Map(),
    containers: new Map(),
  };
}

/** A copy of `ns` with more image records. */
function withImages(ns: NamespaceMeta, more: ImageRecord[]): NamespaceMeta {
  return { ...ns, images: new Map([...ns.images, ...more.map((r) => [r.name, r] as const)]) };
}

const manifestText = (config: string, layers: string[]) =>
  JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_CONFIG, digest: config, size: 1 }, layers: layers.map((digest) => ({ mediaType: OCI_LAYER, digest, size: 1 })) });

describe('containerd images: the fixture', () => {
  it('one image per target digest, the ids Docker shows, in digest order, without a problem', async () => {
    const { images, problems } = await read(moby, hostBlobs().blobs);
    assert.deepEqual(problems, []);
    assert.deepEqual(images.map((i) => i.id), [kit.id, base.id, classic.id]);
    assert.deepEqual(images.map((i) => i.id).sort(), imagesJson.map((i) => i.Id).sort());
    for (const i of images) {
      assert.equal(i.namespace, 'moby');
      assert.equal(i.sizeBasis, 'disk');
      assert.equal(i.created, null);
    }
  });

  it('tags as Docker shows them (docker.io/library/ dropped); the classic build names its parent', async () => {
    const { byId } = await read(moby, hostBlobs().blobs);
    for (const j of imagesJson) {
      assert.deepEqual(byId.get(j.Id)!.tags, j.RepoTags);
      assert.deepEqual(byId.get(j.Id)!.digests, []);
    }
    assert.equal(byId.get(classic.id)!.parent, base.id);
    assert.equal(byId.get(base.id)!.parent, null);
    assert.equal(byId.get(kit.id)!.parent, null);
  });

  it('layer keys: the top chain id\'s parent chain, bottom first; the classic image\'s -init snapshot included', async () => {
    const { byId } = await read(moby, hostBlobs().blobs);
    assert.deepEqual(byId.get(base.id)!.layerKeys, base.chainIds);
    assert.deepEqual(byId.get(kit.id)!.layerKeys, kit.chainIds);
    // ctr: the classic RUN layer's parent is the build container's -init, whose parent is base's layer
    const init = expected.ctr.snapshots.find((s) => s.key === classic.chainIds[1])!.parent!;
    assert.match(init, /^[0-9a-f]{64}-init$/);
    assert.deepEqual(byId.get(classic.id)!.layerKeys, [classic.chainIds[0], init, classic.chainIds[1]]);
  });

  it('diff ids from the config, and each chain id with its diff id (no -init among them)', async () => {
    const { byId } = await read(moby, hostBlobs().blobs);
    for (const e of [base, classic, kit]) {
      const i = byId.get(e.id)!;
      assert.deepEqual(i.diffIds, e.diffIds);
      assert.deepEqual(chainIds(i.diffIds), e.chainIds);
      assert.deepEqual([...i.diffOfChain], e.chainIds.map((c, n) => [c, e.diffIds[n]]));
    }
  });

  it('blobs held: its manifest, config and layers, each with the media type its descriptor gives', async () => {
    const { byId } = await read(moby, hostBlobs().blobs);
    for (const e of [base, classic, kit]) {
      const i = byId.get(e.id)!;
      assert.deepEqual(i.blobs, [e.id, e.manifest.config.digest, ...e.manifest.layers.map((l) => l.digest)], e.tag);
      const manifest = e.manifest as unknown as { mediaType: string; config: { mediaType: string }; layers: Array<{ digest: string; mediaType: string }> };
      assert.deepEqual(
        [...i.mediaTypes].sort(),
        [[e.id, manifest.mediaType], [e.manifest.config.digest, manifest.config.mediaType], ...manifest.layers.map((l) => [l.digest, l.mediaType])].sort(),
      );
    }
    // the base layer's blob is in all three; the classic builder's container-config blob in none
    const all = [...byId.values()];
    assert.ok(all.every((i) => i.blobs.includes(base.manifest.layers[0]!.digest)));
    assert.ok(all.every((i) => !i.blobs.includes('sha256:4c874cf9d3b3b9a969bcb14bfc9dc35ca094886973c4f9190bdfced57e0afd72')));
  });

  it('reads each manifest and config once, and no layer blob', async () => {
    const { blobs, reads } = hostBlobs();
    await read(moby, blobs);
    assert.deepEqual(reads.sort(), expected.images.flatMap((i) => [i.id, i.manifest.config.digest]).sort());
  });

  it('Docker\'s hidden names: moby-dangling@ dropped, the image still there; a dangling-only image has no tag', async () => {
    const ns = withImages(moby, [
      imageRecord(`moby-dangling@${classic.id}`, classic.id, OCI_MANIFEST),
      imageRecord(`moby-dangling@${base.id}`, base.id, OCI_MANIFEST),
      imageRecord(`docker.io/library/classic@${classic.id}`, classic.id, OCI_MANIFEST),
      imageRecord('docker.io/acme/tool:2', kit.id, OCI_MANIFEST),
    ]);
    const { images, byId, problems } = await read(ns, hostBlobs().blobs);
    assert.deepEqual(problems, []);
    assert.equal(images.length, 3, 'names of one target are one image');
    assert.deepEqual(byId.get(classic.id)!.tags, ['classic:latest']);
    assert.deepEqual(byId.get(classic.id)!.digests, [`classic@${classic.id}`]);
    assert.deepEqual(byId.get(base.id)!.tags, ['base:latest']);
    assert.deepEqual(byId.get(kit.id)!.tags, ['acme/tool:2', 'kit:latest']);

    const onlyDangling = withImages(namespace([]), [imageRecord(`moby-dangling@${base.id}`, base.id, OCI_MANIFEST)]);
    const alone = (await read({ ...onlyDangling, snapshots: moby.snapshots }, hostBlobs().blobs)).images;
    assert.deepEqual(alone.map((i) => [i.id, i.tags, i.digests, i.layerKeys]), [[base.id, [], [], base.chainIds]]);
  });

  it('without metadata.db\'s help: a chain stops where meta.db has no snapshot (not unpacked)', async () => {
    const snapshots = new Map([['overlayfs', new Map([...moby.snapshots.get('overlayfs')!].filter(([k]) => k !== kit.chainIds[2]))]]);
    const { byId } = await read({ ...moby, snapshots }, hostBlobs().blobs);
    assert.deepEqual(byId.get(kit.id)!.layerKeys, [], 'the top is not unpacked: no snapshot is the image\'s');
    assert.deepEqual(byId.get(kit.id)!.blobs.length, 5, 'its blobs are still held');
    assert.deepEqual(byId.get(base.id)!.layerKeys, base.chainIds);
  });
});

describe('containerd images: literals', () => {
  const INDEX = D('1');
  const [AMD, ARM] = [D('2'), D('3')];
  const [CFG_AMD, CFG_ARM] = [D('4'), D('5')];
  const [L_AMD, L_ARM] = [D('6'), D('7')];
  const [DIFF_AMD, DIFF_ARM] = [D('8'), D('9')];
  const indexText = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [
      { mediaType: OCI_MANIFEST, digest: AMD, size: 1, platform: { architecture: 'amd64', os: 'linux' } },
      { mediaType: OCI_MANIFEST, digest: ARM, size: 1, platform: { architecture: 'arm64', os: 'linux' } },
    ],
  });

  it('a multi-platform index with one platform pulled: the index and that platform\'s blobs and chain, no more', async () => {
    // arm64's manifest is absent; its config and layer files are there (left by something else) and are not its
    const texts = new Map([[INDEX, indexText], [AMD, manifestText(CFG_AMD, [L_AMD])], [CFG_AMD, configText([DIFF_AMD])], [CFG_ARM, configText([DIFF_ARM])]]);
    const { blobs, reads } = fakeBlobs(texts, [INDEX, AMD, CFG_AMD, L_AMD, CFG_ARM, L_ARM]);
    const ns = namespace([imageRecord('docker.io/library/multi:1', INDEX, OCI_INDEX)], [[DIFF_AMD, null], [DIFF_ARM, null]]);
    const { images, problems } = await read(ns, blobs);
    assert.deepEqual(problems, []);
    assert.equal(images.length, 1);
    const [i] = images as [(typeof images)[0]];
    assert.equal(i.id, INDEX);
    assert.deepEqual(i.tags, ['multi:1']);
    assert.deepEqual(i.blobs, [INDEX, AMD, CFG_AMD, L_AMD]);
    assert.deepEqual(i.layerKeys, [DIFF_AMD]);
    assert.deepEqual(i.diffIds, [DIFF_AMD]);
    assert.deepEqual([...i.mediaTypes].sort(), [[INDEX, OCI_INDEX], [AMD, OCI_MANIFEST], [CFG_AMD, OCI_CONFIG], [L_AMD, OCI_LAYER]].sort());
    assert.deepEqual(reads.sort(), [INDEX, AMD, CFG_AMD].sort(), 'the absent manifest is not asked for');
  });

  it('both platforms present: each counts, chains joined without repeats, diff ids of the first', async () => {
    const SHARED = D('a');
    const texts = new Map([
      [INDEX, indexText],
      [AMD, manifestText(CFG_AMD, [SHARED, L_AMD])],
      [ARM, manifestText(CFG_ARM, [SHARED, L_ARM])],
      [CFG_AMD, configText([D('b'), DIFF_AMD])],
      [CFG_ARM, configText([D('b'), DIFF_ARM])],
    ]);
    const [amdTop, armTop] = [chainIds([D('b'), DIFF_AMD])[1]!, chainIds([D('b'), DIFF_ARM])[1]!];
    const ns = namespace([imageRecord('docker.io/library/multi:1', INDEX, OCI_INDEX)], [[D('b'), null], [amdTop, D('b')], [armTop, D('b')]]);
    const { images, problems } = await read(ns, fakeBlobs(texts, [...texts.keys(), SHARED, L_AMD, L_ARM]).blobs);
    assert.deepEqual(problems, []);
    assert.deepEqual(images[0]!.blobs, [INDEX, AMD, CFG_AMD, SHARED, L_AMD, ARM, CFG_ARM, L_ARM]);
    assert.deepEqual(images[0]!.layerKeys, [D('b'), amdTop, armTop]);
    assert.deepEqual(images[0]!.diffIds, [D('b'), DIFF_AMD]);
  });

  it('a manifest that cannot be read is named once, even when two names and an index point at it', async () => {
    const BROKEN = D('c');
    const texts = new Map([[INDEX, JSON.stringify({ mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: BROKEN }] })], [BROKEN, '{"schemaVersion": 2, "config": ']]);
    const ns = namespace([
      imageRecord('docker.io/library/broken:1', BROKEN, OCI_MANIFEST),
      imageRecord('docker.io/library/broken:2', BROKEN, OCI_MANIFEST),
      imageRecord('docker.io/library/multi:1', INDEX, OCI_INDEX),
    ]);
    const { images, problems, byId } = await read(ns, fakeBlobs(texts).blobs);
    assert.equal(problems.length, 1, JSON.stringify(problems));
    assert.equal(problems[0]!.path, `${WHERE} ${BROKEN}`);
    assert.match(problems[0]!.message, /^manifest unreadable: /);
    // the images are still listed, holding what could be told: nothing of the broken manifest
    assert.equal(images.length, 2);
    assert.deepEqual([byId.get(BROKEN)!.tags, byId.get(BROKEN)!.blobs, byId.get(BROKEN)!.layerKeys], [['broken:1', 'broken:2'], [], []]);
    assert.deepEqual(byId.get(INDEX)!.blobs, [INDEX]);
  });

  it('a manifest that is no manifest, and a config without diff ids: each named once', async () => {
    const [NOT_MANIFEST, M1, M2, BAD_CONFIG, LAYER] = [D('d'), D('e'), D('f'), D('0'), D('a')];
    const texts = new Map([
      [NOT_MANIFEST, JSON.stringify({ schemaVersion: 2, config: { digest: D('b') } })],
      [M1, manifestText(BAD_CONFIG, [LAYER])],
      [M2, manifestText(BAD_CONFIG, [])],
      [BAD_CONFIG, JSON.stringify({ rootfs: { type: 'layers', diff_ids: ['sha256:short'] } })],
    ]);
    const ns = namespace([
      imageRecord('docker.io/library/a:1', NOT_MANIFEST, OCI_MANIFEST),
      imageRecord('docker.io/library/b:1', M1, OCI_MANIFEST),
      imageRecord('docker.io/library/c:1', M2, OCI_MANIFEST),
    ]);
    const { problems, byId } = await read(ns, fakeBlobs(texts, [...texts.keys(), LAYER]).blobs);
    assert.deepEqual(problems, [
      { path: `${WHERE} ${NOT_MANIFEST}`, message: 'manifest unreadable: a manifest without layers' },
      { path: `${WHERE} ${BAD_CONFIG}`, message: 'config unreadable: no valid rootfs.diff_ids' },
    ]);
    // a config that cannot be read: the manifest and layers are held, the config and a chain are not
    assert.deepEqual([byId.get(M1)!.blobs, byId.get(M1)!.layerKeys, byId.get(M1)!.diffIds], [[M1, LAYER], [], []]);
  });

  it('a blob the reader cannot read is left to the reader to name; absent ones are not asked for', async () => {
    const M = D('e');
    const problems: Problem[] = [];
    const images = await readImages(
      namespace([imageRecord('docker.io/library/x:1', M, OCI_MANIFEST), imageRecord('docker.io/library/gone:1', D('f'), OCI_MANIFEST)]),
      { present: (d) => d === M, text: async () => null },
      problems,
      WHERE,
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(images.map((i) => [i.id, i.blobs]), [[M, []], [D('f'), []]]);
  });

  it('records without a target digest are no image', async () => {
    const r = { ...imageRecord('docker.io/library/torn:1', D('1'), OCI_MANIFEST), digest: null };
    assert.deepEqual((await read(namespace([r]), fakeBlobs(new Map()).blobs)).images, []);
  });

  it('shortName: only Docker Hub\'s prefixes go', () => {
    assert.equal(shortName('docker.io/library/base:latest'), 'base:latest');
    assert.equal(shortName('docker.io/acme/tool:2'), 'acme/tool:2');
    assert.equal(shortName('ghcr.io/acme/tool:2'), 'ghcr.io/acme/tool:2');
    assert.equal(shortName('localhost:5000/x@sha256:00'), 'localhost:5000/x@sha256:00');
  });

  it('parentChain: bottom first, stops at a loop or at a key that is not recorded', () => {
    const parents = new Map<string, string | null>([['a', null], ['b', 'a'], ['c', 'b'], ['x', 'y'], ['y', 'x'], ['g', 'missing']]);
    const of = (k: string) => (parents.has(k) ? parents.get(k)! : undefined);
    assert.deepEqual(parentChain('c', of), ['a', 'b', 'c']);
    assert.deepEqual(parentChain('x', of), ['y', 'x']);
    assert.deepEqual(parentChain('g', of), ['g']);
    assert.deepEqual(parentChain('nope', of), []);
    assert.deepEqual(parentChain('', of), []);
  });
});
