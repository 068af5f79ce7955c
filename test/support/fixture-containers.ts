// The containers both acceptance fixtures (the classic store's and the containerd store's) run:
// one never started, one that copies up, one logging with a volume, one running, one whose logs
// rotate with compression. The same commands on either store, so their figures compare.
import * as path from 'node:path';
import type { Daemon } from './dockerd.js';
import { container, settle, settleRotation, type FixtureContainer, type FixtureImage } from './fixture-builders.js';

export interface FixtureContainers {
  containers: { created: FixtureContainer; copyUp: FixtureContainer; logger: FixtureContainer; running: FixtureContainer; rotated: FixtureContainer };
  volume: { name: string; bytesWritten: number; mountpoint: string };
}

/** `six` holds /data/six.bin, which the copy-up container appends to. */
export async function runFixtureContainers(
  d: Daemon,
  images: { base: FixtureImage; six: FixtureImage },
  sizes: { volumeBytes: number; logLines: number },
): Promise<FixtureContainers> {
  const { base, six } = images;
  await d.docker(['create', '--network=none', '--name', 'created', 'base:latest', 'true']);
  const created = await container(d, 'created', base);

  await d.docker(['run', '--network=none', '--name', 'copyup', 'six:latest', 'sh', '-c', 'echo x >> /data/six.bin']);
  const copyUp = await container(d, 'copyup', six);

  const volumeName = 'ldu-vol';
  await d.docker(['volume', 'create', volumeName]);
  await d.docker([
    'run', '--network=none', '--name', 'logger', '-v', `${volumeName}:/vol`, 'base:latest',
    'sh', '-c', `head -c ${sizes.volumeBytes} /dev/urandom > /vol/three.bin && seq 1 ${sizes.logLines} | sed 's/^/log line /'`,
  ]);
  const logger = await container(d, 'logger', base);
  await settle(path.join(d.root, 'containers', logger.id, `${logger.id}-json.log`));

  await d.docker(['run', '-d', '--network=none', '--name', 'running', 'base:latest', 'sleep', '3600']);
  const running = await container(d, 'running', base);

  await d.docker([
    'run', '--network=none', '--name', 'rotated',
    '--log-opt', 'max-size=64k', '--log-opt', 'max-file=4', '--log-opt', 'compress=true',
    'base:latest', 'sh', '-c', `seq 1 ${sizes.logLines} | sed 's/^/rotated line /'`,
  ]);
  const rotated = await container(d, 'rotated', base);
  await settleRotation(path.join(d.root, 'containers', rotated.id), rotated.id);

  return {
    containers: { created, copyUp, logger, running, rotated },
    volume: { name: volumeName, bytesWritten: sizes.volumeBytes, mountpoint: path.join(d.root, 'volumes', volumeName, '_data') },
  };
}
