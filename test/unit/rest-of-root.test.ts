import assert from 'node:assert/strict';
import { storeTrees } from '../../agent/scan/rest-of-root.js';

describe('the rest of the roots (agent/scan/rest-of-root.ts)', () => {
  it('walks each store root once: nested roots and roots another store took are left out', () => {
    const root = '/var/lib/docker';
    assert.deepEqual(storeTrees([[`${root}/image/overlay2`, `${root}/overlay2`]]), [[`${root}/overlay2`, `${root}/image/overlay2`]], 'shortest first');
    assert.deepEqual(
      storeTrees([['/var/lib/containerd', '/var/lib/containerd/io.containerd.content.v1.content', '/var/lib/containerd']]),
      [['/var/lib/containerd']],
    );
    assert.deepEqual(storeTrees([['/var/lib/containerd'], ['/var/lib/containerd/x', '/var/lib/containerd-other']]), [['/var/lib/containerd'], ['/var/lib/containerd-other']], 'a sibling whose name starts alike is another tree');
  });
});
