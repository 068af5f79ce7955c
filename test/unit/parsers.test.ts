import assert from 'node:assert/strict';
import { parseImageConfig, parseRepositories } from '../../collectors/stores/graphdriver/imagedb.js';
import { parseLayerEntry } from '../../collectors/stores/graphdriver/layerdb.js';
import { isJsonLog, labelsOf, parseContainerConfig, stateOf } from '../../collectors/sources/containers.js';
import { parseDockerHost } from '../../collectors/sources/docker-api.js';

const hex = (c: string): string => c.repeat(64);
const digest = (c: string): string => `sha256:${hex(c)}`;

describe('parseImageConfig', () => {
  it('reads diff ids and created from a valid config', () => {
    const text = JSON.stringify({
      architecture: 'amd64',
      config: { Cmd: ['/bin/sh'] },
      created: '2024-05-01T10:00:00.123456789Z',
      rootfs: { type: 'layers', diff_ids: [digest('a'), digest('b')] },
    });
    assert.deepEqual(parseImageConfig(text), { diffIds: [digest('a'), digest('b')], created: '2024-05-01T10:00:00.123456789Z' });
  });

  it('accepts an image with no layers and no created time', () => {
    assert.deepEqual(parseImageConfig('{"rootfs":{"type":"layers","diff_ids":[]}}'), { diffIds: [], created: null });
  });

  it('throws when rootfs is missing or its diff ids are not digests', () => {
    assert.throws(() => parseImageConfig('{"created":"2024-01-01T00:00:00Z"}'), /rootfs/);
    assert.throws(() => parseImageConfig('{"rootfs":{"type":"layers"}}'), /rootfs/);
    assert.throws(() => parseImageConfig('{"rootfs":{"diff_ids":["sha256:xyz"]}}'), /rootfs/);
    assert.throws(() => parseImageConfig('null'), /rootfs/);
  });

  it('throws SyntaxError on text that is not JSON', () => {
    assert.throws(() => parseImageConfig('{not json'), SyntaxError);
    assert.throws(() => parseImageConfig(''), SyntaxError);
  });
});

describe('parseRepositories', () => {
  it('splits tags and digests, sorted, and gathers several repos pointing at one image', () => {
    const img = digest('1');
    const other = digest('2');
    const text = JSON.stringify({
      Repositories: {
        nginx: {
          'nginx:latest': img,
          'nginx:1.27': img,
          [`nginx@sha256:${hex('d')}`]: img,
        },
        'registry.example.com/web': {
          'registry.example.com/web:prod': img,
          [`registry.example.com/web@sha256:${hex('e')}`]: img,
        },
        alpine: { 'alpine:3.20': other },
      },
    });
    const refs = parseRepositories(text);
    assert.equal(refs.size, 2);
    assert.deepEqual(refs.get(img), {
      tags: ['nginx:1.27', 'nginx:latest', 'registry.example.com/web:prod'],
      digests: [`nginx@sha256:${hex('d')}`, `registry.example.com/web@sha256:${hex('e')}`],
    });
    assert.deepEqual(refs.get(other), { tags: ['alpine:3.20'], digests: [] });
  });

  it('is empty for a file without repositories', () => {
    assert.equal(parseRepositories('{}').size, 0);
    assert.equal(parseRepositories('{"Repositories":{}}').size, 0);
  });

  it('throws SyntaxError on text that is not JSON', () => {
    assert.throws(() => parseRepositories('{"Repositories":'), SyntaxError);
  });
});

describe('parseLayerEntry', () => {
  const chain = digest('c');
  const valid = { diff: `${digest('d')}\n`, cacheId: hex('e'), size: '12345', parent: digest('f') };

  it('reads a valid entry (files may end in a newline)', () => {
    assert.deepEqual(parseLayerEntry(chain, valid), {
      layer: { chainId: chain, diffId: digest('d'), parent: digest('f'), cacheId: hex('e'), size: 12345 },
      problems: [],
    });
  });

  it('a base layer has no parent', () => {
    const { layer, problems } = parseLayerEntry(chain, { ...valid, parent: null });
    assert.equal(layer.parent, null);
    assert.deepEqual(problems, []);
  });

  it('a missing cache-id is reported and the layer kept without one', () => {
    const { layer, problems } = parseLayerEntry(chain, { ...valid, cacheId: null });
    assert.equal(layer.cacheId, null);
    assert.equal(layer.diffId, digest('d'));
    assert.deepEqual(problems, ['cache-id missing']);
  });

  it('a garbage cache-id such as a path is rejected', () => {
    for (const bad of ['../../etc', `${hex('e')}/../x`, '', 'ABCDEFGHIJKLMNOPQRSTUVWXY', `${hex('e')}-init-init`]) {
      const { layer, problems } = parseLayerEntry(chain, { ...valid, cacheId: bad });
      assert.equal(layer.cacheId, null, bad);
      assert.deepEqual(problems, ['cache-id is not a layer id'], bad);
    }
  });

  it('accepts a 25-character BuildKit id and a `<64hex>-init` id', () => {
    const bk = 'x3k9mq2w8e7r6t5y4u1i0opas';
    assert.equal(bk.length, 25);
    assert.equal(parseLayerEntry(chain, { ...valid, cacheId: `${bk}\n` }).layer.cacheId, bk);
    assert.equal(parseLayerEntry(chain, { ...valid, cacheId: `${hex('e')}-init` }).layer.cacheId, `${hex('e')}-init`);
  });

  it('a non-numeric size is reported and null; a missing size is null without a problem', () => {
    for (const bad of ['12kB', '-5', '1.5', 'NaN', '']) {
      const { layer, problems } = parseLayerEntry(chain, { ...valid, size: bad });
      assert.equal(layer.size, null, bad);
      assert.deepEqual(problems, ['size is not a number'], bad);
    }
    const { layer, problems } = parseLayerEntry(chain, { ...valid, size: null });
    assert.equal(layer.size, null);
    assert.deepEqual(problems, []);
  });

  it('reports a bad diff and a bad parent', () => {
    assert.deepEqual(parseLayerEntry(chain, { ...valid, diff: null }).problems, ['diff missing']);
    assert.deepEqual(parseLayerEntry(chain, { ...valid, diff: 'sha256:abc' }).problems, ['diff is not a sha256 digest']);
    const p = parseLayerEntry(chain, { ...valid, parent: 'garbage' });
    assert.deepEqual(p.problems, ['parent is not a sha256 digest']);
    assert.equal(p.layer.parent, null);
  });
});

describe('parseContainerConfig and stateOf', () => {
  const id = hex('a');
  const config = (over: Record<string, unknown>) =>
    JSON.stringify({
      ID: id,
      Name: '/web',
      Image: digest('b'),
      State: { Running: true, Paused: false, Restarting: false, Dead: false, StartedAt: '2024-05-01T10:00:00Z' },
      MountPoints: {},
      ...over,
    });

  it('reads id, image, and strips the leading `/` of the name', () => {
    const c = parseContainerConfig(config({}));
    assert.equal(c.id, id);
    assert.equal(c.name, 'web');
    assert.equal(c.imageId, digest('b'));
    assert.equal(c.state, 'running');
    assert.deepEqual(c.volumes, []);
  });

  it('tells running, paused, created-never-started, exited and dead apart', () => {
    const at = '2024-05-01T10:00:00.5Z';
    const zero = '0001-01-01T00:00:00Z';
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ Running: true, Paused: false, StartedAt: at }, 'running'],
      [{ Running: true, Paused: true, StartedAt: at }, 'paused'],
      [{ Running: false, Paused: false, StartedAt: zero, FinishedAt: zero }, 'created'],
      [{ Running: false, StartedAt: at, FinishedAt: '2024-05-01T11:00:00Z', ExitCode: 0 }, 'exited'],
      [{ Running: false, Dead: true, StartedAt: at }, 'dead'],
      [{ Running: true, Restarting: true, StartedAt: at }, 'restarting'],
      [{ Running: false, RemovalInProgress: true, StartedAt: at }, 'removing'],
    ];
    for (const [state, want] of cases) {
      assert.equal(parseContainerConfig(config({ State: state })).state, want, JSON.stringify(state));
      assert.equal(stateOf(state), want);
    }
    assert.equal(stateOf(undefined), 'unknown');
    assert.equal(parseContainerConfig(config({ State: undefined })).state, 'unknown');
  });

  it('keeps named volumes only, sorted and once each; bind mounts and tmpfs are left out', () => {
    const c = parseContainerConfig(
      config({
        MountPoints: {
          '/data': { Source: '', Destination: '/data', RW: true, Name: 'data', Driver: 'local', Type: 'volume' },
          '/cache': { Source: '', Destination: '/cache', RW: true, Name: 'cache', Driver: 'local', Type: 'volume' },
          '/again': { Destination: '/again', Name: 'data', Driver: 'local', Type: 'volume' },
          '/host': { Source: '/srv/host', Destination: '/host', RW: true, Name: '', Driver: '', Type: 'bind' },
          '/etc/app': { Source: '/etc/app', Destination: '/etc/app', Type: 'bind' },
          '/run': { Destination: '/run', Type: 'tmpfs' },
        },
      }),
    );
    assert.deepEqual(c.volumes, ['cache', 'data']);
  });

  it('reads Config.Labels, keeping string values; none (null or absent) is an empty set', () => {
    const labels = { 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'web', team: '' };
    assert.deepEqual(parseContainerConfig(config({ Config: { Image: 'shop-web', Labels: labels } })).labels, labels);
    assert.deepEqual(parseContainerConfig(config({ Config: { Labels: null } })).labels, {});
    assert.deepEqual(parseContainerConfig(config({ Config: {} })).labels, {});
    assert.deepEqual(parseContainerConfig(config({})).labels, {});
    assert.deepEqual(labelsOf({ a: 'x', n: 3, o: { b: 1 }, z: null }), { a: 'x' });
    assert.deepEqual(labelsOf(['a']), {});
    assert.deepEqual(labelsOf('a=b'), {});
  });

  it('throws on a missing or malformed ID and on text that is not JSON', () => {
    assert.throws(() => parseContainerConfig(config({ ID: undefined })), /ID/);
    assert.throws(() => parseContainerConfig(config({ ID: 'abc' })), /ID/);
    assert.throws(() => parseContainerConfig('{'), SyntaxError);
  });
});

describe('isJsonLog', () => {
  const id = hex('a');

  it('matches the log and its rotated and compressed siblings', () => {
    for (const n of [`${id}-json.log`, `${id}-json.log.1`, `${id}-json.log.2.gz`, `${id}-json.log.12`]) {
      assert.equal(isJsonLog(id, n), true, n);
    }
  });

  it('rejects everything else', () => {
    for (const n of [
      'config.v2.json',
      'hostconfig.json',
      'hostname',
      'resolv.conf',
      `${hex('b')}-json.log`,
      `${id}-json.log.gz`,
      `${id}-json.log.1.tmp`,
      `${id}-json.log.`,
      `${id}-json.logx`,
      `x${id}-json.log`,
      `${id}-json.log.1.gz.bak`,
    ]) {
      assert.equal(isJsonLog(id, n), false, n);
    }
  });
});

describe('parseDockerHost', () => {
  it('takes a unix socket path', () => {
    assert.deepEqual(parseDockerHost('unix:///var/run/docker.sock'), { socketPath: '/var/run/docker.sock' });
  });

  it('takes tcp host:port', () => {
    assert.deepEqual(parseDockerHost('tcp://10.0.0.5:2375'), { host: '10.0.0.5', port: 2375, protocol: 'http' });
    assert.deepEqual(parseDockerHost('tcp://docker.example.com:2375/'), { host: 'docker.example.com', port: 2375, protocol: 'http' });
    assert.deepEqual(parseDockerHost('https://docker.example.com:2376'), { host: 'docker.example.com', port: 2376, protocol: 'https' });
  });

  it('takes a bracketed IPv6 address', () => {
    assert.deepEqual(parseDockerHost('tcp://[::1]:2375'), { host: '::1', port: 2375, protocol: 'http' });
    assert.deepEqual(parseDockerHost('tcp://docker1'), { host: 'docker1', port: 2375, protocol: 'http' });
    assert.deepEqual(parseDockerHost('tcp://[fe80::1]:2376'), { host: 'fe80::1', port: 2376, protocol: 'http' });
  });

  it('throws on anything else', () => {
    for (const bad of ['', 'garbage', '/var/run/docker.sock', 'unix://relative.sock', 'tcp://:2375', 'tcp://host:port', 'ssh://user@host:22', 'tcp://::1:2375']) {
      assert.throws(() => parseDockerHost(bad), /docker host/, bad);
    }
  });
});
