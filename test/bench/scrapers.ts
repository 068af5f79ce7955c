// Load on the agent's HTTP side: N scrapers each GETting /metrics on its own kept-alive
// connection, gzip accepted (as Prometheus does), all at once on a beat or back to back, a /healthz poller that tells when a scan runs, and
// the latency figures of what they saw.
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { quantile } from './measure.js';

export interface Scrape {
  /** ms since `t0` when the request started */
  at: number;
  ms: number;
  status: number;
  bytes: number;
}

export interface Latency {
  samples: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  failures: number;
}

export function latency(xs: Scrape[]): Latency {
  const ok = xs.filter((s) => s.status === 200).map((s) => s.ms);
  const q = (p: number) => (ok.length ? +quantile(ok, p).toFixed(2) : null);
  return { samples: ok.length, p50Ms: q(0.5), p99Ms: q(0.99), maxMs: ok.length ? +Math.max(...ok).toFixed(2) : null, failures: xs.length - ok.length };
}

/**
 * One GET as Prometheus makes it, gzip accepted; read when its last byte is in. The body is not
 * unpacked here: fifty unpacked on this one thread would time the bench, not the agent (each
 * Prometheus unpacks in its own process). `bytes` are as sent.
 */
function getOnce(agent: http.Agent, url: string): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent, headers: { 'Accept-Encoding': 'gzip' } }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
      res.on('error', () => resolve({ status: 0, bytes }));
    });
    req.on('error', () => resolve({ status: 0, bytes: 0 }));
    req.setTimeout(10_000, () => req.destroy());
  });
}

/**
 * `n` scrapers until `stop()` says so, all at once every `everyMs` (the worst case of n
 * Prometheus servers: their scrapes coincide), or each back to back when `everyMs` is 0.
 */
export async function scrapeWhile(url: string, n: number, t0: number, stop: () => boolean, everyMs = 0): Promise<Scrape[]> {
  const start = performance.now();
  const out: Scrape[] = [];
  await Promise.all(
    Array.from({ length: n }, async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        while (!stop()) {
          const at = performance.now() - t0;
          const r = await getOnce(agent, url);
          out.push({ at, ms: performance.now() - t0 - at, ...r });
          if (everyMs > 0) {
            const next = Math.ceil((performance.now() - start + 1) / everyMs) * everyMs;
            await sleep(next - (performance.now() - start));
          } else if (r.status === 0) await sleep(20);
        }
      } finally {
        agent.destroy();
      }
    }),
  );
  return out;
}

export interface Health {
  at: number;
  scanning: boolean;
  lastScan: string | null;
}

/** Polls /healthz every `everyMs` until `stop()`; each answer with when it came (ms since t0). */
export async function pollHealth(url: string, t0: number, everyMs: number, stop: () => boolean, seen: Health[]): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    while (!stop()) {
      const body = await new Promise<string | null>((resolve) => {
        const req = http.get(`${url}/healthz`, { agent }, (res) => {
          let s = '';
          res.on('data', (c: Buffer) => (s += c.toString()));
          res.on('end', () => resolve(s));
        });
        req.on('error', () => resolve(null));
      });
      if (body) {
        const h = JSON.parse(body) as { scanning?: boolean; lastScan?: string | null };
        seen.push({ at: performance.now() - t0, scanning: h.scanning === true, lastScan: h.lastScan ?? null });
      }
      await sleep(everyMs);
    }
  } finally {
    agent.destroy();
  }
}

/** The scrapes that started after one health answer said `scanning` and ended before the next answer said it still was. */
export function duringScans(scrapes: Scrape[], health: Health[]): Scrape[] {
  const spans: [number, number][] = [];
  for (let i = 0; i + 1 < health.length; i++) if (health[i]!.scanning && health[i + 1]!.scanning) spans.push([health[i]!.at, health[i + 1]!.at]);
  return scrapes.filter((s) => spans.some(([a, b]) => s.at >= a && s.at + s.ms <= b));
}
