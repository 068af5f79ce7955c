// The HTTP server under hostile or odd clients, in this process (no agent, no daemon): the limits
// are set explicitly, a slowloris is cut off at the headers timeout while others are served, a
// body over the limit is refused without being read whole, unknown paths are 404 and other
// methods on the telemetry path 405; over TLS with basic auth as well. Functional checks only:
// the figures under load are `npm run bench`'s (test/bench/serving-bench.ts).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import bcrypt from 'bcryptjs';
import { acceptsGzip, SERVER_LIMITS, sharedWhileRunning, startServer, type RunningServer, type ServerLimits } from '../../agent/serve/server.js';
import type { WebConfig } from '../../agent/serve/web-config.js';
import { get } from '../support/agent-process.js';
import { rawRequest, slowloris } from '../support/http-clients.js';

const METRICS = '# HELP x a gauge\n# TYPE x gauge\nx 1\n';
// Short, so that a test waits seconds, not the defaults' minutes.
const SHORT: Partial<ServerLimits> = { headersTimeoutMs: 1000, requestTimeoutMs: 3000, checkIntervalMs: 100, tlsHandshakeTimeoutMs: 1000 };

function serve(webConfig: WebConfig | null = null, limits: Partial<ServerLimits> = SHORT): Promise<RunningServer> {
  return startServer({
    listen: '127.0.0.1:0',
    telemetryPath: '/metrics',
    webConfig,
    metrics: async () => METRICS,
    contentType: 'text/plain; version=0.0.4',
    health: () => ({ healthy: true, detail: { status: 'ok' } }),
    limits,
  });
}

describe('serving: limits, slow clients, bodies, paths and methods', function () {
  let s: RunningServer;
  let url: string;
  before(async () => {
    s = await serve();
    url = `http://127.0.0.1:${s.address.port}`;
  });
  after(() => s.close());

  it('sets every timeout and limit explicitly (defaults: SERVER_LIMITS)', async () => {
    const d = await serve(null, {});
    try {
      const srv = d.server;
      assert.deepEqual(
        { headers: srv.headersTimeout, request: srv.requestTimeout, keepAlive: srv.keepAliveTimeout, idle: srv.timeout, count: srv.maxHeadersCount },
        { headers: 5000, request: 30_000, keepAlive: 5000, idle: 60_000, count: 100 },
      );
      assert.equal(d.limits.renderReuseMs, 1000);
      assert.ok(SERVER_LIMITS.headersTimeoutMs < SERVER_LIMITS.requestTimeoutMs, 'headers come before the request ends');
      assert.equal(SERVER_LIMITS.maxBodyBytes, 1024 * 1024);
    } finally {
      await d.close();
    }
  });

  it('cuts a slowloris off at the headers timeout and serves the others meanwhile', async function () {
    this.timeout(20_000);
    const clients = Array.from({ length: 5 }, () => slowloris(s.address.port, { byteEveryMs: 100 }));
    const served: number[] = [];
    const deadline = Date.now() + 1500;
    while (Date.now() < deadline) served.push((await get(`${url}/metrics`)).status);
    const ends = await Promise.all(clients);
    assert.ok(served.length > 5 && served.every((st) => st === 200), `scrapes during the slowloris: ${served.join(' ')}`);
    for (const e of ends) {
      assert.ok(e.closedAfterMs >= 1000, `closed after ${e.closedAfterMs} ms, before the headers timeout`);
      assert.ok(e.closedAfterMs < 1000 + 5 * 100 + 1000, `closed after ${e.closedAfterMs} ms: not cut off at the timeout`);
      assert.ok(e.bytesSent < 40, `${e.bytesSent} header bytes sent: it never finished its headers`);
      assert.ok(e.answer === '' || e.answer.startsWith('HTTP/1.1 408'), `answered ${JSON.stringify(e.answer.slice(0, 40))}`);
    }
  });

  it('a connection that sends nothing is cut off at the headers timeout too', async function () {
    this.timeout(10_000);
    const e = await slowloris(s.address.port, { byteEveryMs: 0 });
    assert.ok(e.closedAfterMs >= 1000 && e.closedAfterMs < 2500, `closed after ${e.closedAfterMs} ms`);
  });

  it('refuses a declared body over 1 MiB with 413, before reading it', async () => {
    const r = await rawRequest(s.address.port, { method: 'POST', path: '/metrics', headers: { 'Content-Length': String(2 * 1024 * 1024) }, body: Buffer.alloc(10) });
    assert.equal(r.status, 413);
    assert.match(r.head, /connection: close/i);
  });

  it('refuses a chunked body once it passes 1 MiB, without reading the rest', async function () {
    this.timeout(20_000);
    const r = await rawRequest(s.address.port, { method: 'GET', path: '/metrics', headers: { 'Transfer-Encoding': 'chunked' }, chunked: { chunkBytes: 64 * 1024, totalBytes: 64 * 1024 * 1024 } });
    assert.equal(r.status, 413);
    assert.ok(r.bodyBytesSent < 16 * 1024 * 1024, `${r.bodyBytesSent} bytes sent before the answer: the server read on`);
  });

  it('a small body is read and dropped; the request is answered', async () => {
    const r = await rawRequest(s.address.port, { method: 'GET', path: '/metrics', headers: { 'Content-Length': '1024' }, body: Buffer.alloc(1024, 'a') });
    assert.equal(r.status, 200);
    assert.match(r.body, /^x 1$/m);
  });

  it('scrapes that arrive while the exposition renders, or within a second of it, share that rendering', async () => {
    let renders = 0;
    const slow = await startServer({
      listen: '127.0.0.1:0',
      telemetryPath: '/metrics',
      webConfig: null,
      metrics: async () => {
        renders += 1;
        await new Promise((r) => setTimeout(r, 200));
        return METRICS;
      },
      contentType: 'text/plain',
      health: () => ({ healthy: true, detail: {} }),
      limits: { renderReuseMs: 500 },
    });
    try {
      const answers = await Promise.all(Array.from({ length: 20 }, () => get(`http://127.0.0.1:${slow.address.port}/metrics`)));
      assert.ok(answers.every((a) => a.status === 200 && a.body === METRICS));
      assert.equal(renders, 1);
      await new Promise((r) => setTimeout(r, 550));
      await get(`http://127.0.0.1:${slow.address.port}/metrics`);
      assert.equal(renders, 2, 'a scrape past the reuse time renders anew');
    } finally {
      await slow.close();
    }
  });

  it('gzips the exposition for a scraper that takes gzip (Prometheus does), once a rendering; plain otherwise', async () => {
    const big = `${METRICS}${Array.from({ length: 5000 }, (_, i) => `y{i="${i}"} ${i}`).join('\n')}\n`;
    let renders = 0;
    const z = await startServer({
      listen: '127.0.0.1:0',
      telemetryPath: '/metrics',
      webConfig: null,
      metrics: async () => (renders++, big),
      contentType: 'text/plain',
      health: () => ({ healthy: true, detail: {} }),
    });
    try {
      const ask = (encoding?: string) =>
        new Promise<{ headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
          http
            .get(`http://127.0.0.1:${z.address.port}/metrics`, { headers: encoding ? { 'Accept-Encoding': encoding } : {} }, (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
            })
            .on('error', reject);
        });
      const zipped = await Promise.all(Array.from({ length: 10 }, () => ask('gzip, deflate')));
      for (const r of zipped) {
        assert.equal(r.headers['content-encoding'], 'gzip');
        assert.equal(gunzipSync(r.body).toString(), big);
        assert.ok(r.body.length < big.length / 2, `${r.body.length} bytes for ${big.length}`);
      }
      const plain = await ask();
      assert.equal(plain.headers['content-encoding'], undefined);
      assert.equal(plain.body.toString(), big);
      assert.equal((await ask('gzip;q=0, identity')).headers['content-encoding'], undefined);
      assert.equal(renders, 1, 'one rendering within the reuse time, compressed once');
    } finally {
      await z.close();
    }
  });

  it('404 for unknown paths whatever the method; 405 with Allow for other methods on the telemetry path', async () => {
    for (const [method, path] of [['GET', '/nope'], ['POST', '/nope'], ['GET', '/metrics/x'], ['GET', '/favicon.ico']] as const) {
      assert.equal((await rawRequest(s.address.port, { method, path })).status, 404, `${method} ${path}`);
    }
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const r = await rawRequest(s.address.port, { method, path: '/metrics' });
      assert.equal(r.status, 405, method);
      assert.match(r.head, /^allow: GET, HEAD$/im);
    }
    const head = await rawRequest(s.address.port, { method: 'HEAD', path: '/metrics' });
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assert.equal((await get(`${url}/metrics?x=1`)).status, 200, 'a query string is no other path');
    assert.equal((await get(`${url}/healthz`)).status, 200);
    assert.equal((await get(`${url}/`)).status, 200);
  });

  describe('over TLS with basic auth (web config)', function () {
    let dir: string;
    let t: RunningServer;
    let ca: Buffer;
    before(async function () {
      this.timeout(30_000);
      dir = mkdtempSync(join(tmpdir(), 'ldu-serving-'));
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
      ca = readFileSync(join(dir, 'cert.pem'));
      t = await serve({ tls: { cert: ca, key: readFileSync(join(dir, 'key.pem')) }, users: new Map([['prom', bcrypt.hashSync('s3cret', 4)]]) });
    });
    after(async () => {
      await t?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('serves with the right credentials only; 404, 405 and 413 still hold', async () => {
      const u = `https://127.0.0.1:${t.address.port}`;
      assert.equal((await get(`${u}/metrics`, { ca })).status, 401);
      assert.equal((await get(`${u}/metrics`, { ca, auth: 'prom:wrong' })).status, 401);
      const ok = await get(`${u}/metrics`, { ca, auth: 'prom:s3cret' });
      assert.equal(ok.status, 200);
      assert.equal(ok.body, METRICS);
      assert.equal((await get(`${u}/nope`, { ca, auth: 'prom:s3cret' })).status, 404);
      const auth = `Basic ${Buffer.from('prom:s3cret').toString('base64')}`;
      const opts = { tls: { ca } };
      assert.equal((await rawRequest(t.address.port, { ...opts, method: 'POST', path: '/metrics', headers: { Authorization: auth } })).status, 405);
      assert.equal((await rawRequest(t.address.port, { ...opts, method: 'POST', path: '/metrics', headers: { 'Content-Length': String(2 << 20) } })).status, 413);
    });

    it('cuts off a client that never finishes the TLS handshake, and one that sends headers slowly', async function () {
      this.timeout(20_000);
      const started = performance.now();
      const silent = new net.Socket();
      const closed = new Promise<number>((resolve) => silent.once('close', () => resolve(performance.now() - started)));
      silent.on('error', () => undefined);
      silent.connect(t.address.port, '127.0.0.1');
      const slow = slowloris(t.address.port, { byteEveryMs: 100, tls: { ca } });
      const ms = await closed;
      assert.ok(ms >= 1000 && ms < 3000, `a silent TLS client closed after ${ms} ms`);
      const e = await slow;
      assert.ok(e.closedAfterMs >= 1000 && e.closedAfterMs < 3500, `a slow TLS client closed after ${e.closedAfterMs} ms`);
      assert.equal((await get(`https://127.0.0.1:${t.address.port}/metrics`, { ca, auth: 'prom:s3cret' })).status, 200);
    });
  });
});

describe('sharedWhileRunning', () => {
  it('shares a call under way, reuses its answer for reuseMs from its start, then calls again', async () => {
    let now = 0;
    let calls = 0;
    let release!: (v: number) => void;
    const f = sharedWhileRunning(() => new Promise<number>((r) => ((calls += 1), (release = r))), 1000, () => now);
    const a = f();
    const b = f();
    assert.equal(calls, 1);
    now = 300;
    release(7);
    assert.deepEqual(await Promise.all([a, b]), [7, 7]);
    now = 999;
    assert.equal(await f(), 7, 'within a second of the start');
    assert.equal(calls, 1);
    now = 1000;
    const c = f();
    assert.equal(calls, 2, 'a second after the start: anew');
    release(8);
    assert.equal(await c, 8);
  });
});

describe('acceptsGzip', () => {
  it('reads Accept-Encoding as Prometheus and curl send it, q=0 meaning no', () => {
    assert.equal(acceptsGzip('gzip'), true);
    assert.equal(acceptsGzip('gzip, deflate, br'), true);
    assert.equal(acceptsGzip('deflate, GZIP;q=0.5'), true);
    assert.equal(acceptsGzip('x-gzip'), true);
    assert.equal(acceptsGzip(undefined), false);
    assert.equal(acceptsGzip(''), false);
    assert.equal(acceptsGzip('identity'), false);
    assert.equal(acceptsGzip('gzip;q=0'), false);
    assert.equal(acceptsGzip('br, gzipped'), false);
  });
});
