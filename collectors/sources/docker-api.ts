// The Docker Engine API, through dockerode: GET requests only, each with a deadline, because a
// hung daemon is common exactly when the disk is full.
import { statSync } from 'node:fs';
import type { ApiFacts } from '../lib/facts.js';

export interface DockerEndpoint {
  socketPath?: string;
  host?: string;
  port?: number;
  protocol?: 'http' | 'https';
}

/** `unix:///run/docker.sock` or `tcp://host:2375` into dockerode's options; throws on anything else. */
export function parseDockerHost(url: string): DockerEndpoint {
  if (url.startsWith('unix://')) {
    const socketPath = url.slice('unix://'.length);
    if (!socketPath.startsWith('/')) throw new Error(`docker host ${url}: the socket path must be absolute`);
    return { socketPath };
  }
  // Without a port, tcp:// means Docker's plain-HTTP port, as the docker CLI reads it.
  const m = /^(tcp|http|https):\/\/([^/:]+|\[[^\]]+\])(?::(\d+))?\/?$/.exec(url);
  if (m) {
    const protocol = m[1] === 'https' ? 'https' : 'http';
    const port = m[3] ? Number(m[3]) : protocol === 'https' ? 2376 : 2375;
    return { host: m[2]!.replace(/^\[|\]$/g, ''), port, protocol };
  }
  throw new Error(`docker host ${url}: expected unix:///path or tcp://host:port`);
}

function deadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export const DEFAULT_API_TIMEOUT_MS = 10_000;

/**
 * No socket file at a unix:// address: no daemon answers there, and the client need not load.
 * (stat, not access(2): access checks the real uid without capabilities, and the unit reads with
 * CAP_DAC_READ_SEARCH.) False for tcp:// and for whatever stat cannot tell.
 */
export function noSocketAt(endpoint: DockerEndpoint): boolean {
  if (!endpoint.socketPath) return false;
  try {
    return statSync(endpoint.socketPath, { throwIfNoEntry: false }) === undefined;
  } catch {
    return false;
  }
}

export async function readDockerApi(url: string, timeoutMs = DEFAULT_API_TIMEOUT_MS): Promise<ApiFacts> {
  const endpoint = parseDockerHost(url);
  // No socket, no daemon: say so at once, without loading the client.
  if (noSocketAt(endpoint)) throw new Error(`no socket at ${endpoint.socketPath}`);
  // Loaded here, not at start: the import is slow and overlaps the disk walk this way.
  const { default: Docker } = await import('dockerode');
  const docker = new Docker({ ...endpoint, timeout: timeoutMs });
  const [info, list, version] = await deadline(
    Promise.all([
      docker.info() as Promise<Record<string, unknown>>,
      docker.listContainers({ all: true }),
      docker.version() as Promise<{ ApiVersion?: unknown }>,
    ]),
    timeoutMs,
    `Docker API at ${url}`,
  );
  const containers = new Map<string, { name: string; state: string; imageId: string }>();
  for (const c of list) {
    containers.set(c.Id, { name: (c.Names?.[0] ?? '').replace(/^\//, ''), state: c.State ?? 'unknown', imageId: c.ImageID ?? '' });
  }
  const status = Array.isArray(info.DriverStatus) ? (info.DriverStatus as unknown[]) : [];
  return {
    containers,
    driver: typeof info.Driver === 'string' ? info.Driver : null,
    driverStatus: status.filter((p): p is [string, string] => Array.isArray(p) && p.length === 2).map((p) => [String(p[0]), String(p[1])]),
    dockerRootDir: typeof info.DockerRootDir === 'string' ? info.DockerRootDir : null,
    serverVersion: typeof info.ServerVersion === 'string' ? info.ServerVersion : null,
    apiVersion: typeof version.ApiVersion === 'string' ? version.ApiVersion : null,
  };
}
