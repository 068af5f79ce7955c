// The one image every test builds on, made without a registry: the host's static busybox.
import { chmod, copyFile, mkdir, mkdtemp, readlink, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { findExecutable, run, runBuffer } from './commands.js';
import type { Daemon } from './dockerd.js';

/**
 * Imports a base image: a tar of /bin/busybox (the static one) and one symlink per applet in /bin,
 * plus /etc and /tmp. Returns the image id.
 */
export async function makeBaseImage(d: Daemon, tag = 'base:latest'): Promise<string> {
  const busybox = findExecutable('busybox');
  if (!busybox) throw new Error('busybox not found (apt-get install -y busybox-static)');
  const dir = await mkdtemp(path.join(tmpdir(), 'ldu-base-'));
  try {
    const bin = path.join(dir, 'bin');
    await mkdir(bin);
    await mkdir(path.join(dir, 'etc'));
    await mkdir(path.join(dir, 'tmp'));
    await chmod(path.join(dir, 'tmp'), 0o1777);
    let real = busybox;
    try {
      const l = await readlink(busybox);
      real = path.resolve(path.dirname(busybox), l);
    } catch {
      /* not a symlink */
    }
    await copyFile(real, path.join(bin, 'busybox'));
    await chmod(path.join(bin, 'busybox'), 0o755);
    const applets = (await run(busybox, ['--list'])).split('\n').map((s) => s.trim()).filter(Boolean);
    for (const a of applets) {
      if (a === 'busybox' || a.includes('/')) continue;
      await symlink('busybox', path.join(bin, a));
    }
    const tar = await runBuffer('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', dir, '-cf', '-', '.']);
    await d.docker(['import', '-c', 'CMD ["/bin/sh"]', '-', tag], { input: tar });
    const id = (await d.docker(['image', 'inspect', '--format', '{{.Id}}', tag])).trim();
    return id;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
