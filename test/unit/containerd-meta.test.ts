import assert from 'node:assert/strict';
import { parseBolt } from '../../collectors/lib/bbolt.js';
import type { Problem } from '../../collectors/lib/facts.js';
import { parseMetaDb } from '../../collectors/stores/containerd/meta-db.js';
import { expected, fixture } from './containerd-fixture.js';

// The fixture's meta.db against what ctr, the API and the disk said on the live host
// (test/fixtures/containerd/expected.json) and docs/containerd-store-layout.md.
const problems: Problem[] = [];
const meta = parseMetaDb(parseBolt(fixture('meta.db')), problems);
const moby = meta.namespaces.get('moby')!;
const history = meta.namespaces.get('moby_history')!;
const blobSize = (digest: string): number => expected.disk.blobs[digest]!.size;
const image = (tag: string) => expected.images.find((i) => i.tag === tag)!;
const sorted = (xs: Iterable<string>): string[] => [...xs].sort();

describe('containerd meta.db: the fixture', () => {
  it('reads without a problem: schema version 3, the namespaces ctr lists', () => {
    assert.deepEqual(problems, []);
    assert.equal(meta.schemaVersion, 3);
    assert.deepEqual([...meta.namespaces.keys()], expected.ctr.namespaces);
    assert.deepEqual(moby.labels, new Map());
  });

  it('has the images ctr lists, each with its target digest, media type and size', () => {
    assert.deepEqual([...moby.images.keys()], expected.ctr.images.map((i) => i.ref));
    for (const i of expected.ctr.images) {
      const rec = moby.images.get(i.ref)!;
      assert.equal(rec.name, i.ref);
      assert.equal(rec.digest, i.digest);
      assert.equal(rec.mediaType, i.mediaType);
      assert.equal(rec.size, blobSize(i.digest));
      assert.match(rec.createdAt ?? '', /^2026-12-01T09:15:3\d\.\d{3}Z$/);
    }
    assert.deepEqual(expected.ctr.images.map((i) => moby.images.get(i.ref)!.size), [405, 748, 892]);
    assert.equal(history.images.size, 0);
  });

  it('has the image labels and annotations of each builder', () => {
    const base = moby.images.get('docker.io/library/base:latest')!;
    const classic = moby.images.get('docker.io/library/classic:latest')!;
    const kit = moby.images.get('docker.io/library/kit:latest')!;
    assert.deepEqual([base.labels, base.annotations], [new Map(), new Map()]);
    assert.deepEqual(classic.labels, new Map([
      ['org.mobyproject.image.containerconfig', 'sha256:4c874cf9d3b3b9a969bcb14bfc9dc35ca094886973c4f9190bdfced57e0afd72'],
      ['org.mobyproject.image.parent', image('base:latest').id],
    ]));
    assert.deepEqual(kit.annotations, new Map([['config.digest', image('kit:latest').manifest.config.digest]]));
  });

  it('has the blobs ctr lists, each with the size of its file, per namespace', () => {
    assert.deepEqual(sorted(moby.blobs.keys()), sorted(expected.ctr.content));
    for (const [digest, blob] of [...moby.blobs, ...history.blobs]) {
      assert.equal(blob.digest, digest);
      assert.equal(blob.size, blobSize(digest), digest);
      assert.notEqual(blob.createdAt, null);
    }
    assert.equal(moby.blobs.get('sha256:1be6de25626905abbf4f93bfb081d8b2b439bd8a6d78e2f8cc2a9c9345d53236')!.size, 1068851);
    const kit = image('kit:latest');
    // moby_history records the kit manifest and config again, and BuildKit's two history blobs.
    assert.deepEqual(sorted(history.blobs.keys()), sorted([
      kit.id,
      kit.manifest.config.digest,
      'sha256:4b6aa3068a12cd475ac8898edcc28a92ec72370f90bc7b558d2f8bab556ab735',
      'sha256:9ea3b2be3eb9b0684bb8225e432a194c2be0ea6ddbf52e7151dfcac60991885a',
    ]));
    assert.deepEqual(history.blobs.get(kit.id)!.labels, new Map([['containerd.io/gc.ref.content.0', kit.manifest.config.digest]]));
  });

  it('links each image to its config, layers and top snapshot through the blob labels', () => {
    for (const img of expected.images) {
      const manifest = moby.blobs.get(img.id)!.labels;
      const refs = [...manifest].filter(([k]) => k.startsWith('containerd.io/gc.ref.content.')).map(([, v]) => v);
      assert.deepEqual(sorted(refs), sorted([img.manifest.config.digest, ...img.manifest.layers.map((l) => l.digest)]), img.tag);
      const config = moby.blobs.get(img.manifest.config.digest)!;
      assert.equal(config.size, img.manifest.config.size);
      assert.equal(config.labels.get('containerd.io/gc.ref.snapshot.overlayfs'), img.chainIds.at(-1));
      img.manifest.layers.forEach((layer, i) => {
        assert.equal(moby.blobs.get(layer.digest)!.size, layer.size);
        assert.equal(moby.blobs.get(layer.digest)!.labels.get('containerd.io/uncompressed'), img.diffIds[i]);
      });
    }
    const base = moby.blobs.get(image('base:latest').id)!.labels;
    assert.equal(base.get('containerd.io/gc.ref.content.l.0'), image('base:latest').manifest.layers[0]!.digest);
  });

  it('has the snapshots ctr lists, each with its parent and backend key moby/<seq>/<key>', () => {
    const overlayfs = moby.snapshots.get('overlayfs')!;
    assert.deepEqual([...moby.snapshots.keys()], ['overlayfs']);
    assert.deepEqual(sorted(overlayfs.keys()), sorted(expected.ctr.snapshots.map((s) => s.key)));
    const seqs = new Set<string>();
    for (const s of expected.ctr.snapshots) {
      const rec = overlayfs.get(s.key)!;
      assert.equal(rec.key, s.key);
      assert.equal(rec.parent, s.parent, s.key);
      const m = /^moby\/([0-9]+)\/(.*)$/.exec(rec.backendKey ?? '');
      assert.equal(m?.[2], s.key);
      seqs.add(m![1]!);
      assert.deepEqual(rec.labels, new Map());
    }
    assert.equal(seqs.size, expected.ctr.snapshots.length);
    // The classic builder's -init stays in the image's chain; its children bucket is stale and unread.
    const top = overlayfs.get(image('classic:latest').chainIds[1]!)!;
    assert.equal(top.parent, '7005402612b656b45e048b74f53bc003aa4c4295a87f9fbf4edb754f91277896-init');
    assert.equal(overlayfs.get(top.parent!)!.parent, image('base:latest').chainIds[0]);
    assert.equal(overlayfs.get('7005402612b656b45e048b74f53bc003aa4c4295a87f9fbf4edb754f91277896'), undefined);
  });

  it('has the leases ctr lists, with their labels and what each holds', () => {
    assert.deepEqual(sorted(moby.leases.keys()), sorted(expected.ctr.leases.map((l) => l.id)));
    for (const l of expected.ctr.leases) assert.deepEqual(moby.leases.get(l.id)!.labels, new Map(Object.entries(l.labels)), l.id);
    const held = (id: string) => {
      const l = moby.leases.get(id)!;
      return { content: l.content, snapshots: Object.fromEntries(l.snapshots), ingests: l.ingests, images: l.images };
    };
    for (const c of expected.containers) {
      assert.deepEqual(held(c.id), { content: [], snapshots: { overlayfs: [c.id, `${c.id}-init`] }, ingests: [], images: [] });
    }
    const base = image('base:latest');
    assert.deepEqual(held('775974405-xrSb'), { content: sorted([base.id, base.manifest.config.digest]), snapshots: {}, ingests: [], images: [] });
    assert.deepEqual(held('r1ljlu19vr1sqqz873zlhdw4j'), {
      content: sorted([base.id, base.manifest.config.digest, base.manifest.layers[0]!.digest]),
      snapshots: { overlayfs: [base.chainIds[0]] },
      ingests: [],
      images: [],
    });
    assert.deepEqual(held('mi97lb3fsjl9jib84f7kxwhh4'), {
      content: [image('kit:latest').manifest.layers[1]!.digest],
      snapshots: { overlayfs: ['mi97lb3fsjl9jib84f7kxwhh4'] },
      ingests: [],
      images: [],
    });
    assert.deepEqual([...history.leases.keys()], ['ref_m0o5ltpvfxm6bhvr8vhg2jjoh']);
    assert.equal(history.leases.get('ref_m0o5ltpvfxm6bhvr8vhg2jjoh')!.content.length, 3);
  });

  it('has no ingest and no container record: the downloads ended, both containers had stopped', () => {
    for (const ns of meta.namespaces.values()) assert.deepEqual([ns.ingests.size, ns.containers.size], [0, 0]);
  });
});
