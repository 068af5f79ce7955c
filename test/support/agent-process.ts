// Runs the layerdu agent as a child process on a loopback port, and reads its exposition text.
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { CLI, REPO_ROOT } from './oracles.js';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Exposition text into samples (comments skipped); label values unescaped. */
export function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparsable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]!] = l[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    }
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

export function pick(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The single value of a series; fails loudly when there is none or several. */
export function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = pick(samples, name, labels);
  if (found.length !== 1) throw new Error(`${name}${JSON.stringify(labels)}: ${found.length} series`);
  return found[0]!.value;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface HttpAnswer {
  status: number;
  body: string;
  ms: number;
}

export function get(url: string, opts: { auth?: string; ca?: Buffer } = {}): Promise<HttpAnswer> {
  const start = performance.now();
  const lib = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.get(
      url,
      {
        headers: opts.auth ? { Authorization: `Basic ${Buffer.from(opts.auth).toString('base64')}` } : {},
        ...(url.startsWith('https:') ? { ca: opts.ca, rejectUnauthorized: opts.ca !== undefined } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - start }));
      },
    );
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${url}: timeout`)));
  });
}

export interface AgentProcess {
  url: string;
  child: ChildProcess;
  stderr(): string;
  /** Resolves with the exposition text once a scan finished after `since` (Unix seconds). */
  scrapeAfter(since: number, timeoutMs?: number): Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; ms: number }>;
}

export async function startAgent(args: string[], opts: { https?: boolean; auth?: string; ca?: Buffer } = {}): Promise<AgentProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [CLI, '--web.listen-address', `127.0.0.1:${port}`, ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const url = `${opts.https ? 'https' : 'http'}://127.0.0.1:${port}`;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const scrapeAfter = async (since: number, timeoutMs = 120_000): Promise<string> => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`agent exited ${child.exitCode}: ${err}`);
      const r = await get(`${url}/metrics`, opts).catch(() => null);
      if (r?.status === 200) {
        const ts = parseExposition(r.body).find((s) => s.name === 'layerdu_last_scan_timestamp_seconds');
        if (ts && ts.value > since) return r.body;
      }
      await new Promise((res) => setTimeout(res, 250));
    }
    throw new Error(`no scan finished after ${since} within ${timeoutMs} ms; stderr: ${err}`);
  };

  return {
    url,
    child,
    stderr: () => err,
    scrapeAfter,
    async stop(signal = 'SIGTERM') {
      const start = performance.now();
      if (child.exitCode === null) child.kill(signal);
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(killer);
      return { code, ms: performance.now() - start };
    },
  };
}
