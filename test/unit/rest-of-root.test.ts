import assert from 'node:assert/strict';
import { treesToWalk } from '../../agent/scan/rest-of-root.js';

describe('the rest of the root (agent/scan/rest-of-root.ts)', () => {
  it('walks the docker root, and each store root outside it and outside each other, once', () => {
    const root = '/var/lib/docker';
    assert.deepEqual(treesToWalk(root, [`${root}/image/overlay2`, `${root}/overlay2`]), [root]);
    assert.deepEqual(treesToWalk(root, ['/var/lib/containerd', '/var/lib/containerd/io.containerd.content.v1.content', '/var/lib/containerd']), [root, '/var/lib/containerd']);
    assert.deepEqual(treesToWalk(root, ['/var/lib/docker-other', `${root}/containerd/daemon`]), [root, '/var/lib/docker-other'], 'a sibling whose name starts alike is outside');
  });
});
