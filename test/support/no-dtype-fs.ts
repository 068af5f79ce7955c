// An ext4 filesystem made without the `filetype` feature, loop-mounted: a backing filesystem
// without d_type, where overlay2 refuses to run and dockerd falls back to vfs (like xfs ftype=0).
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { run } from './dockerd.js';

export interface NoDTypeFs {
  image: string;
  mountpoint: string;
  /** Unmounts (lazily if busy) and detaches every loop device still on the image. */
  unmount(): Promise<void>;
}

export async function mountExt4WithoutDType(work: string, size = '1G'): Promise<NoDTypeFs> {
  const image = path.join(work, 'nofiletype.img');
  const mountpoint = path.join(work, 'mnt');
  await mkdir(mountpoint, { recursive: true });
  await run('truncate', ['-s', size, image]);
  await run('mkfs.ext4', ['-q', '-F', '-O', '^filetype', image]);
  await run('mount', ['-o', 'loop', image, mountpoint]);
  return {
    image,
    mountpoint,
    async unmount() {
      await run('umount', [mountpoint]).catch(() => run('umount', ['-l', mountpoint]));
      // mount -o loop sets autoclear; detach whatever is still attached all the same.
      const attached = await run('losetup', ['-j', image]);
      for (const line of attached.split('\n')) {
        const dev = line.split(':')[0];
        if (dev) await run('losetup', ['-d', dev]).catch(() => undefined);
      }
    },
  };
}
