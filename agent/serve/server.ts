// The HTTP side, in the Prometheus exporter style: a landing page, the telemetry path and
// /healthz. It only reads what the last finished scan left; it never starts a walk.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { BasicAuth, type WebConfig } from './web-config.js';

export interface ServerOptions {
  listen: string; // host:port, ":port" for every address
  telemetryPath: string;
  webConfig: WebConfig | null;
  metrics: () => Promise<string>;
  contentType: string;
  health: () => { healthy: boolean; detail: Record<string, unknown> };
}

export interface RunningServer {
  address: AddressInfo;
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

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const auth = new BasicAuth(opts.webConfig?.users ?? new Map());
  const handler: http.RequestListener = (req, res) => {
    void (async () => {
      if (!(await auth.check(req.headers.authorization))) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="layerdu"', 'Content-Type': 'text/plain' }).end('Unauthorized\n');
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { Allow: 'GET, HEAD' }).end();
        return;
      }
      const path = (req.url ?? '/').split('?')[0];
      if (path === opts.telemetryPath) {
        const body = await opts.metrics();
        res.writeHead(200, { 'Content-Type': opts.contentType }).end(body);
      } else if (path === '/healthz') {
        const h = opts.health();
        res.writeHead(h.healthy ? 200 : 503, { 'Content-Type': 'application/json' }).end(`${JSON.stringify(h.detail)}\n`);
      } else if (path === '/') {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(landing(opts.telemetryPath));
      } else {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not found\n');
      }
    })().catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(`${(e as Error)?.message ?? e}\n`);
    });
  };
  const tls = opts.webConfig?.tls;
  const server = tls ? https.createServer({ cert: tls.cert, key: tls.key }, handler) : http.createServer(handler);
  server.keepAliveTimeout = 5000;
  const { host, port } = parseListenAddress(opts.listen);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    address: server.address() as AddressInfo,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
