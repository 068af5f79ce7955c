// Run by `npm test` before mocha: the end-to-end tests need dockerd, the docker.io client at
// /usr/bin/docker, busybox (static) and mkfs.ext4 (and the package's tests amtool, lintian and
// dpkg-shlibdeps). Installs them with apt-get when we are root;
// otherwise says what is missing in one line and exits 1. Quiet when everything is there.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';

const PACKAGES = ['docker.io', 'busybox-static', 'e2fsprogs', 'xfsprogs', 'prometheus', 'prometheus-alertmanager', 'graphviz', 'openssl', 'systemd', 'lintian', 'dpkg-dev'];

function findExecutable(name: string): string | null {
  if (name.startsWith('/')) return existsSync(name) ? name : null;
  const dirs = (process.env.PATH ?? '').split(':').filter(Boolean);
  for (const extra of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    if (!dirs.includes(extra)) dirs.push(extra);
  }
  for (const dir of dirs) {
    if (existsSync(path.join(dir, name))) return path.join(dir, name);
  }
  return null;
}

function missing(): string[] {
  // setpriv (util-linux) and du (coreutils) are essential packages on Debian; checked all the same.
  return ['dockerd', '/usr/bin/docker', 'busybox', 'mkfs.ext4', 'mkfs.xfs', 'setpriv', 'du', 'tar', 'promtool', 'prometheus', 'amtool', 'dot', 'openssl', 'systemd-analyze', 'lintian', 'dpkg-shlibdeps'].filter(
    (n) => findExecutable(n) === null,
  );
}

function main(): number {
  const before = missing();
  if (before.length === 0) return 0;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) {
    process.stderr.write(
      `ensure-deps: missing ${before.join(', ')}; run as root or install: apt-get install -y ${PACKAGES.join(' ')}\n`,
    );
    return 1;
  }
  process.stderr.write(`ensure-deps: missing ${before.join(', ')}; installing ${PACKAGES.join(' ')}\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // apt-get's own output goes to stderr so that stdout stays clean.
  const stdio: ['ignore', number, number] = ['ignore', 2, 2];
  const update = spawnSync('apt-get', ['update'], { env, stdio });
  if (update.status !== 0) {
    process.stderr.write(`ensure-deps: apt-get update failed (${update.status ?? update.signal})\n`);
    return 1;
  }
  const install = spawnSync('apt-get', ['install', '-y', ...PACKAGES], { env, stdio });
  if (install.status !== 0) {
    process.stderr.write(`ensure-deps: apt-get install failed (${install.status ?? install.signal})\n`);
    return 1;
  }
  const after = missing();
  if (after.length > 0) {
    process.stderr.write(`ensure-deps: still missing after install: ${after.join(', ')}\n`);
    return 1;
  }
  return 0;
}

process.exitCode = main();
