import assert from 'node:assert/strict';
import { parseBolt } from '../../collectors/lib/bbolt.js';
import type { Problem } from '../../collectors/lib/facts.js';
import { parseMetaDb } from '../../collectors/stores/containerd/meta-db.js';
import { boltFile, goTime, varint, type Tree } from './containerd-bolt-writer.js';

// meta.db records the fixture has none of (a running container, an ingest, containerd 2's lease
// images) and the damage each field check is for, on hand-built files.
const AT = '2026-01-02T03:04:05.678Z';
const T = goTime(AT);
const D1 = `sha256:${'a'.repeat(64)}`;
const D2 = `sha256:${'b'.repeat(64)}`;

function parse(tree: Tree) {
  const problems: Problem[] = [];
  const meta = parseMetaDb(parseBolt(boltFile(tree)), problems);
  return { meta, problems, moby: meta.namespaces.get('moby') };
}

const inMoby = (body: Tree): Tree => ({ v1: { version: varint(3), moby: body } });

describe('containerd meta.db: literal records', () => {
  it('a container dockerd runs: image, snapshot key and snapshotter empty, read as null', () => {
    const { moby, problems } = parse(inMoby({
      containers: {
        c1: {
          image: '', snapshotKey: '', snapshotter: '', sandboxid: '', spec: Buffer.from([0x0a, 0x01]),
          runtime: { name: 'io.containerd.runc.v2', options: Buffer.from([0x12]) },
          labels: { 'com.docker/engine.bundle.path': '/run/docker/containerd/c1' },
          createdat: T, updatedat: T,
        },
        c2: { image: 'docker.io/library/nginx:1', snapshotKey: 'c2', snapshotter: 'overlayfs', createdat: T },
      },
    }));
    assert.deepEqual(problems, []);
    assert.deepEqual(moby!.containers.get('c1'), {
      id: 'c1', image: null, snapshotKey: null, snapshotter: null,
      labels: new Map([['com.docker/engine.bundle.path', '/run/docker/containerd/c1']]), createdAt: AT,
    });
    const c2 = moby!.containers.get('c2')!;
    assert.deepEqual([c2.image, c2.snapshotKey, c2.snapshotter], ['docker.io/library/nginx:1', 'c2', 'overlayfs']);
  });

  it('an ingest, a lease of containerd 2 (images, ingests), namespace labels, schema 4', () => {
    const { meta, problems, moby } = parse({
      v1: {
        version: varint(4),
        moby: {
          labels: { 'containerd.io/namespace.shareable': 'true' },
          content: { ingests: { 'fetch-1': { ref: 'moby-1-fetch-1', expireat: T, expected: D1 } } },
          leases: {
            l1: {
              createdat: T, labels: { 'containerd.io/gc.expire': AT },
              content: { [D1]: '' }, ingests: { 'fetch-1': '' }, images: { 'docker.io/library/x:1': '' },
              snapshots: { overlayfs: { k1: '', k2: '' }, native: { n1: '' } },
            },
          },
        },
      },
    });
    assert.deepEqual(problems, []);
    assert.equal(meta.schemaVersion, 4);
    assert.deepEqual(moby!.labels, new Map([['containerd.io/namespace.shareable', 'true']]));
    assert.deepEqual(moby!.ingests.get('fetch-1'), { ref: 'fetch-1', backendRef: 'moby-1-fetch-1', expireAt: AT, expected: D1 });
    assert.deepEqual(moby!.leases.get('l1'), {
      id: 'l1', labels: new Map([['containerd.io/gc.expire', AT]]), content: [D1],
      snapshots: new Map([['native', ['n1']], ['overlayfs', ['k1', 'k2']]]),
      ingests: ['fetch-1'], images: ['docker.io/library/x:1'], createdAt: AT,
    });
  });

  it('sandboxes: known in v1 and where containerd 1.7 kept them, at the top', () => {
    const { problems } = parse({ v1: { version: varint(3), 'k8s.io': { sandboxes: { s1: { createdat: T } } } }, 'k8s.io': { sandboxes: { s1: {} } } });
    assert.deepEqual(problems, []);
  });
});

describe('containerd meta.db: literal damage, each named beside what it costs', () => {
  const blobAt = (d: string) => `meta.db [v1/moby/content/blob/${d}]`;

  it('an entry it does not know: one problem naming it; the record kept', () => {
    const { moby, problems } = parse(inMoby({ content: { blob: { [D1]: { size: varint(7), colour: 'blue', extra: {} } } } }));
    assert.equal(moby!.blobs.get(D1)!.size, 7);
    assert.deepEqual(problems, [{ path: blobAt(D1), message: 'unknown entries left unread: "colour" (value), "extra" (bucket)' }]);
  });

  it('a negative size, a truncated one, one with bytes after it, a bad time: null, each named', () => {
    const D3 = `sha256:${'c'.repeat(64)}`;
    const { moby, problems } = parse(inMoby({
      content: {
        blob: {
          [D1]: { size: varint(-1) },
          [D2]: { size: Buffer.from([0x80]) },
          [D3]: { size: Buffer.concat([varint(5), Buffer.from([0])]), createdat: T.subarray(0, 14) },
        },
      },
    }));
    assert.deepEqual([D1, D2, D3].map((d) => moby!.blobs.get(d)!.size), [null, null, null]);
    assert.equal(moby!.blobs.get(D3)!.createdAt, null);
    assert.deepEqual(problems, [
      { path: blobAt(D1), message: 'size is negative (-1)' },
      { path: blobAt(D2), message: 'size: truncated varint (1 bytes, no last byte)' },
      { path: blobAt(D3), message: 'size: 1 bytes after the varint' },
      { path: blobAt(D3), message: 'createdat is not a Go binary time (14 bytes)' },
    ]);
  });

  it('keys that are no digest where one belongs, names that are not text: left out, named', () => {
    const { moby, problems } = parse(inMoby({
      content: { blob: { 'sha256:abc': { size: varint(1) }, [D1]: { size: varint(2), labels: { ok: 'yes', bad: Buffer.from([0xff]) } } } },
      images: { 'docker.io/x:\xff': { target: { digest: D1, mediatype: 'm', size: varint(2) } } },
      leases: { l1: { content: { 'sha256:nope': '', [D2]: '' } } },
    }));
    assert.deepEqual([...moby!.blobs.keys()], [D1]);
    assert.deepEqual(moby!.blobs.get(D1)!.labels, new Map([['ok', 'yes']]));
    assert.equal(moby!.images.size, 0);
    assert.deepEqual(moby!.leases.get('l1')!.content, [D2]);
    assert.deepEqual(problems, [
      { path: 'meta.db [v1/moby/images]', message: 'skipped 0x646f636b65722e696f2f783aff: its name is not text' },
      { path: `${blobAt(D1).slice(0, -1)}/labels]`, message: 'skipped "bad": its value is not text' },
      { path: 'meta.db [v1/moby/content/blob/sha256:abc]', message: 'skipped: the key is not a digest' },
      { path: 'meta.db [v1/moby/leases/l1/content]', message: 'skipped "sha256:nope": not a valid name here' },
    ]);
  });

  it('an image whose target is a value, one whose digest is not one: named, kept with nulls', () => {
    const { moby, problems } = parse(inMoby({
      images: { a: { target: 'x' }, b: { target: { digest: 'sha256:zz', mediatype: 'm', size: varint(9) } } },
    }));
    assert.deepEqual([moby!.images.get('a')!.digest, moby!.images.get('b')!.digest, moby!.images.get('b')!.size], [null, null, 9]);
    assert.deepEqual(problems, [
      { path: 'meta.db [v1/moby/images/a]', message: 'target is a value where a bucket belongs' },
      { path: 'meta.db [v1/moby/images/b/target]', message: 'digest is not a digest: "sha256:zz"' },
    ]);
  });

  it('a snapshot whose backend key is not moby/<seq>/<key>, one whose parent is missing', () => {
    const { moby, problems } = parse(inMoby({
      snapshots: { overlayfs: { a: { name: 'moby/1/b' }, c: { name: 'moby/2/c', parent: 'gone' } } },
    }));
    assert.equal(moby!.snapshots.get('overlayfs')!.get('a')!.backendKey, 'moby/1/b');
    assert.deepEqual(problems, [
      { path: 'meta.db [v1/moby/snapshots/overlayfs/a]', message: 'name "moby/1/b" is not moby/<seq>/<key>' },
      { path: 'meta.db [v1/moby/snapshots/overlayfs/c]', message: 'parent "gone" is not recorded' },
    ]);
  });

  it('no v1, or a top-level bucket it does not know: named', () => {
    assert.deepEqual(parse({ other: {} }).problems, [
      { path: 'meta.db [other]', message: 'unknown top-level bucket' },
      { path: 'meta.db', message: 'no v1 bucket: not a containerd meta.db' },
    ]);
    assert.deepEqual(parse({ v1: {} }).problems, [{ path: 'meta.db [v1]', message: 'version is missing' }]);
  });
});
