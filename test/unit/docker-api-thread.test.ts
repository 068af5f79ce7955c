import assert from 'node:assert/strict';
import { guessDockerHost } from '../../collectors/sources/docker-api-thread.js';

describe('guessDockerHost (whether to load the API client before the flags are parsed)', () => {
  it('takes --docker-host in either spelling, then LAYERDU_DOCKER_HOST, DOCKER_HOST, the default socket', () => {
    const argv = ['node', 'cli.js', '--report'];
    assert.equal(guessDockerHost([...argv, '--docker-host', 'unix:///a.sock'], { DOCKER_HOST: 'tcp://b:2375' }), 'unix:///a.sock');
    assert.equal(guessDockerHost([...argv, '--docker-host=tcp://c:2376'], {}), 'tcp://c:2376');
    assert.equal(guessDockerHost(argv, { LAYERDU_DOCKER_HOST: 'unix:///d.sock', DOCKER_HOST: 'tcp://b:2375' }), 'unix:///d.sock');
    assert.equal(guessDockerHost(argv, { DOCKER_HOST: 'tcp://b:2375' }), 'tcp://b:2375');
    assert.equal(guessDockerHost(argv, {}), 'unix:///var/run/docker.sock');
    // A flag without its value is left to the real parser, which refuses it.
    assert.equal(guessDockerHost([...argv, '--docker-host'], {}), 'unix:///var/run/docker.sock');
  });
});
