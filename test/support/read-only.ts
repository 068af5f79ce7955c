// Read-only, proved (issue 14): a store's root seen through a read-only bind mount, and a proxy
// socket in front of a daemon's API that records every request the agent makes.
import { mkdir, mkdtemp, rm, rmdir } from 'node:fs/promises';
import * as http from 'node:http';
import * as path from 'node:path';
import { run } from './commands.js';

export interface ReadOnlyView {
  /** Where the root shows, read-only. */
  path: string;
  /** Unmounts it and removes the mount point; safe to call twice. */
  unmount(): Promise<void>;
}

/**
 * `root` bind-mounted read-only under /tmp (`mount --rbind`, then `mount -o remount,bind,ro`: a
 * bind mount takes its own ro flag only on a remount). Recursive, so that the view shows what the
 * root shows: a running container's rootfs mounted below the root stays a mount there (another
 * filesystem, which a walk leaves out), not the empty directory beneath it. The root's own
 * filesystem, everything a scan reads, is read-only in the view.
 */
export async function bindReadOnly(root: string): Promise<ReadOnlyView> {
  const dir = await mkdtemp('/tmp/ldu-ro-');
  const at = path.join(dir, path.basename(root));
  await mkdir(at);
  let mounted = false;
  const unmount = async () => {
    if (mounted) {
      await run('umount', ['--recursive', at]);
      mounted = false;
    }
    // Only empty directories are removed: never what a mount still shows.
    await rmdir(at).catch(() => undefined);
    await rmdir(dir).catch(() => undefined);
  };
  try {
    await run('mount', ['--rbind', root, at]);
    mounted = true;
    // dockerd makes its root a shared mount: the view must not join its peer group.
    await run('mount', ['--make-rprivate', at]);
    await run('mount', ['-o', 'remount,bind,ro', at]);
  } catch (e) {
    await unmount();
    throw e;
  }
  return { path: at, unmount };
}

export interface RecordedRequest {
  method: string;
  path: string;
}

export interface RecordingProxy {
  /** unix://<socket> for --docker-host. */
  host: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/**
 * A unix socket that forwards every HTTP request to the daemon's socket `target` and records its
 * method and path. An upgrade or CONNECT (attach, exec) is recorded and refused.
 */
export async function recordingProxy(target: string, dir: string): Promise<RecordingProxy> {
  const socket = path.join(dir, `proxy-${process.pid}-${Date.now()}.sock`);
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? '?', path: req.url ?? '?' });
    const up = http.request({ socketPath: target, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    up.on('error', (e) => {
      res.writeHead(502);
      res.end(String(e));
    });
    req.pipe(up);
  });
  const refuse = (req: http.IncomingMessage, sock: import('node:net').Socket | import('node:stream').Duplex) => {
    requests.push({ method: `${req.method ?? '?'} (upgrade)`, path: req.url ?? '?' });
    sock.destroy();
  };
  server.on('upgrade', refuse);
  server.on('connect', refuse);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, resolve);
  });
  return {
    host: `unix://${socket}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }).then(() => rm(socket, { force: true })),
  };
}
