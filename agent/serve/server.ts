// The HTTP side, in the Prometheus exporter style: a landing page, the telemetry path and
// /healthz. It only reads what the last finished scan left; it never starts a walk. Every limit
// is set here rather than left to Node's defaults (which cut a slow client off after a minute at
// the soonest, and read any body): a slow or hostile client is dropped without holding others.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { BasicAuth, type WebConfig } from './web-config.js';
import { answering } from '../../collectors/lib/serving-first.js';

export interface ServerLimits {
  /** From a connection's first byte until its request's headers are in: a slowloris is cut here. */
  headersTimeoutMs: number;
  /** The whole request, headers and body. */
  requestTimeoutMs: number;
  /** An idle kept-alive connection between two requests. */
  keepAliveTimeoutMs: number;
  /** Any socket with no traffic either way (server.timeout). */
  idleTimeoutMs: number;
  /** TLS: the handshake, before any HTTP is read. */
  tlsHandshakeTimeoutMs: number;
  /** How often Node checks the headers and request timeouts (its default is 30 s). */
  checkIntervalMs: number;
  maxHeadersCount: number;
  maxHeaderBytes: number;
  /** A request body beyond this is refused (413) without being read further. */
  maxBodyBytes: number;
  /** Scrapes within this long of a rendering's start get that rendering (0: each its own, but for those at once). */
  renderReuseMs: number;
}

export const SERVER_LIMITS: Readonly<ServerLimits> = {
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 60_000,
  tlsHandshakeTimeoutMs: 5_000,
  checkIntervalMs: 1_000,
  maxHeadersCount: 100,
  maxHeaderBytes: 16 * 1024,
  maxBodyBytes: 1024 * 1024,
  renderReuseMs: 1000,
};

export interface ServerOptions {
  listen: string; // host:port, ":port" for every address
  telemetryPath: string;
  webConfig: WebConfig | null;
  metrics: () => Promise<string>;
  contentType: string;
  health: () => { healthy: boolean; detail: Record<string, unknown> };
  /** SERVER_LIMITS unless given (tests shorten them). */
  limits?: Partial<ServerLimits>;
}

export interface RunningServer {
  address: AddressInfo;
  server: http.Server;
  limits: Readonly<ServerLimits>;
  close(): Promise<void>;
}

export function parseListenAddress(text: string): { host: string | undefined; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  if (!m || port > 65535) throw new Error(`--web.listen-address ${text}: expected host:port`);
  const host = m[1] ?? m[2];
  return { host: host === '' ? undefined : host, port };
}

function landing(path: string): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>layerdu</title></head>
<body><h1>layerdu</h1>
<p>True disk usage of this Docker host: image layers shared and unique, containers, logs, volumes, build cache and orphans.</p>
<ul><li><a href="${path}">Metrics</a></li><li><a href="/healthz">Health</a></li></ul>
</body></html>
`;
}

/**
 * Reads and drops a request's body; false as soon as it is over `limit` bytes, declared or sent
 * (chunked), and then reads no more of it. No endpoint takes a body: this only bounds one.
 */
export function discardBody(req: http.IncomingMessage, limit: number): Promise<boolean> {
  if (Number(req.headers['content-length'] ?? 0) > limit) return Promise.resolve(false);
  return new Promise((resolve) => {
    let seen = 0;
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen <= limit) return;
      req.off('data', onData);
      req.pause();
      resolve(false);
    };
    req.on('data', onData);
    req.once('end', () => resolve(true));
    req.once('error', () => resolve(false));
  });
}

/**
 * Calls that arrive while one is under way share its answer, and so do those that come within
 * `reuseMs` of its start: fifty scrapes at once render the exposition once, not fifty times over,
 * each behind the others (rendering the process metrics alone takes milliseconds).
 */
export function sharedWhileRunning<T>(work: () => Promise<T>, reuseMs = 0, now: () => number = () => performance.now()): () => Promise<T> {
  let running: Promise<T> | null = null;
  let last: { at: number; value: T } | null = null;
  return () => {
    if (last && now() - last.at < reuseMs) return Promise.resolve(last.value);
    if (running) return running;
    const at = now();
    running = work()
      .then((value) => {
        last = { at, value };
        return value;
      })
      .finally(() => {
        running = null;
      });
    return running;
  };
}

const gzipAsync = promisify(gzip);

/** One rendering of the exposition: its bytes, and those gzipped (off this thread, once, when first asked). */
class Exposition {
  private compressed: Promise<Buffer> | null = null;

  constructor(readonly body: Buffer) {}

  gzipped(): Promise<Buffer> {
    return (this.compressed ??= gzipAsync(this.body, { level: 1 }));
  }
}

/** Whether an Accept-Encoding header takes gzip (not with q=0). */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  return header.split(',').some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return (coding === 'gzip' || coding === 'x-gzip') && (q === undefined || Number(q.slice(2)) > 0);
  });
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const limits: ServerLimits = { ...SERVER_LIMITS, ...opts.limits };
  // Encoded once a rendering, and compressed once for the scrapers that take gzip (Prometheus
  // does): fifty scrapes of a big host's exposition (megabytes) would each encode it again, and
  // write it whole.
  const render = sharedWhileRunning(async () => new Exposition(Buffer.from(await opts.metrics(), 'utf8')), limits.renderReuseMs);
  const auth = new BasicAuth(opts.webConfig?.users ?? new Map());
  const paths = new Set([opts.telemetryPath, '/healthz', '/']);
  const handler: http.RequestListener = (req, res) => {
    // Until it is answered (or its client is gone), the scan's background work takes short slices.
    res.once('close', answering());
    void (async () => {
      if (!(await discardBody(req, limits.maxBodyBytes))) {
        // Connection: close makes Node drop the socket once this is sent, the rest of the body unread.
        res.writeHead(413, { Connection: 'close', 'Content-Type': 'text/plain' }).end(`Request body over ${limits.maxBodyBytes} bytes\n`);
        return;
      }
      if (!(await auth.check(req.headers.authorization))) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="layerdu"', 'Content-Type': 'text/plain' }).end('Unauthorized\n');
        return;
      }
      const path = (req.url ?? '/').split('?')[0]!;
      if (!paths.has(path)) {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not found\n');
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('Method not allowed\n');
        return;
      }
      if (path === opts.telemetryPath) {
        const exposition = await render();
        if (acceptsGzip(req.headers['accept-encoding'])) {
          res.writeHead(200, { 'Content-Type': opts.contentType, 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding' }).end(await exposition.gzipped());
        } else res.writeHead(200, { 'Content-Type': opts.contentType, Vary: 'Accept-Encoding' }).end(exposition.body);
      } else if (path === '/healthz') {
        const h = opts.health();
        res.writeHead(h.healthy ? 200 : 503, { 'Content-Type': 'application/json' }).end(`${JSON.stringify(h.detail)}\n`);
      } else {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(landing(opts.telemetryPath));
      }
    })().catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(`${(e as Error)?.message ?? e}\n`);
    });
  };
  const tls = opts.webConfig?.tls;
  const httpOptions: http.ServerOptions = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: limits.checkIntervalMs,
    maxHeaderSize: limits.maxHeaderBytes,
  };
  const server: http.Server = tls
    ? https.createServer({ ...httpOptions, cert: tls.cert, key: tls.key, handshakeTimeout: limits.tlsHandshakeTimeoutMs }, handler)
    : http.createServer(httpOptions, handler);
  // With no 'timeout' listener, Node destroys a socket silent this long.
  server.timeout = limits.idleTimeoutMs;
  server.maxHeadersCount = limits.maxHeadersCount;
  const { host, port } = parseListenAddress(opts.listen);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    address: server.address() as AddressInfo,
    server,
    limits,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
