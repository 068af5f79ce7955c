// A real Prometheus for end-to-end tests (/usr/bin/prometheus, Debian's `prometheus` package):
// its own config, TSDB directory and loopback port under a temp dir, removed on stop. Plus the
// queries of a Grafana dashboard JSON, with its template variables replaced, to run against it.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { freePort, get } from './agent-process.js';

export const PROMETHEUS = '/usr/bin/prometheus';
export const PROMTOOL = '/usr/bin/promtool';

export interface PromOptions {
  /** host:port of each layerdu agent, scraped as job "layerdu". */
  targets: string[];
  /** Rule files to load (absolute paths). */
  ruleFiles: string[];
  /** Scrape interval, e.g. '1s'. */
  scrapeInterval?: string;
  /** Rule evaluation interval, e.g. '1s'. */
  evaluationInterval?: string;
}

export interface PromSample {
  metric: Record<string, string>;
  value?: [number, string];
  values?: Array<[number, string]>;
}

export interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing' | 'inactive';
  activeAt?: string;
  value: string;
}

export interface PromServer {
  url: string;
  dir: string;
  child: ChildProcess;
  /** The tail of Prometheus' own log, for failure messages. */
  log(): string;
  /** GET /api/v1/<apiPath>; rejects on a non-success answer. */
  api<T>(apiPath: string, params?: Record<string, string | string[]>): Promise<T>;
  /** An instant query at now: the result vector (a scalar comes back as one sample). */
  query(expr: string): Promise<PromSample[]>;
  /** A range query over the last `seconds` at `step` seconds: the result matrix. */
  queryRange(expr: string, seconds: number, step: number): Promise<PromSample[]>;
  alerts(): Promise<PromAlert[]>;
  stop(): Promise<void>;
}

const live = new Set<PromServer>();

/** Every Prometheus started and not yet stopped. */
export function livePrometheus(): PromServer[] {
  return [...live];
}

export async function startPrometheus(opts: PromOptions): Promise<PromServer> {
  if (!existsSync(PROMETHEUS)) throw new Error(`${PROMETHEUS} not found (apt-get install -y prometheus)`);
  const dir = await mkdtemp(path.join(tmpdir(), 'ldu-prom-'));
  const port = await freePort();
  const config = {
    global: {
      scrape_interval: opts.scrapeInterval ?? '1s',
      scrape_timeout: opts.scrapeInterval ?? '1s',
      evaluation_interval: opts.evaluationInterval ?? '1s',
    },
    rule_files: opts.ruleFiles,
    scrape_configs: [{ job_name: 'layerdu', static_configs: [{ targets: opts.targets }] }],
  };
  const configFile = path.join(dir, 'prometheus.yml');
  await writeFile(configFile, stringify(config));
  const logFile = path.join(dir, 'prometheus.log');
  const logFd = openSync(logFile, 'a');
  const child = spawn(
    PROMETHEUS,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', logFd, logFd] },
  );
  closeSync(logFd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const log = () => {
    try {
      return readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n');
    } catch {
      return '(no log)';
    }
  };

  const api = async <T>(apiPath: string, params: Record<string, string | string[]> = {}): Promise<T> => {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) for (const one of Array.isArray(v) ? v : [v]) qs.append(k, one);
    const r = await get(`${url}/api/v1/${apiPath}${qs.size > 0 ? `?${qs}` : ''}`);
    let body: { status: string; data: T; error?: string };
    try {
      body = JSON.parse(r.body) as typeof body;
    } catch {
      throw new Error(`GET ${apiPath}: HTTP ${r.status}: ${r.body.slice(0, 300)}`);
    }
    if (body.status !== 'success') throw new Error(`GET ${apiPath} ${JSON.stringify(params)}: ${body.error ?? r.status}`);
    return body.data;
  };

  const asSamples = (data: { resultType: string; result: unknown }): PromSample[] =>
    data.resultType === 'scalar' || data.resultType === 'string'
      ? [{ metric: {}, value: data.result as [number, string] }]
      : (data.result as PromSample[]);

  let stopping: Promise<void> | null = null;
  const server: PromServer = {
    url,
    dir,
    child,
    log,
    api,
    async query(expr) {
      return asSamples(await api<{ resultType: string; result: unknown }>('query', { query: expr }));
    },
    async queryRange(expr, seconds, step) {
      const end = Date.now() / 1000;
      return asSamples(
        await api<{ resultType: string; result: unknown }>('query_range', {
          query: expr,
          start: String(end - seconds),
          end: String(end),
          step: String(step),
        }),
      );
    },
    async alerts() {
      return (await api<{ alerts: PromAlert[] }>('alerts')).alerts;
    },
    stop() {
      stopping ??= (async () => {
        try {
          if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGTERM');
            const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
            await exited;
            clearTimeout(killer);
          }
          await rm(dir, { recursive: true, force: true });
        } finally {
          live.delete(server);
        }
      })();
      return stopping;
    },
  };
  live.add(server);

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const tail = log();
      await server.stop();
      throw new Error(`prometheus exited during start; log:\n${tail}`);
    }
    const r = await get(`${url}/-/ready`).catch(() => null);
    if (r?.status === 200) break;
    if (Date.now() > deadline) {
      const tail = log();
      await server.stop();
      throw new Error(`prometheus not ready within 30 s; log:\n${tail}`);
    }
    await sleep(200);
  }
  return server;
}

// --- Grafana dashboard JSON ---------------------------------------------------------------------

export interface PanelQuery {
  panelId: number;
  panelTitle: string;
  panelType: string;
  refId: string;
  expr: string;
  instant: boolean;
}

interface PanelJson {
  id?: number;
  type: string;
  title?: string;
  panels?: PanelJson[];
  targets?: Array<{ refId?: string; expr?: string; instant?: boolean; range?: boolean }>;
}

/** Every panel of a dashboard, those inside collapsed rows included (rows themselves too). */
export function allPanels(dashboard: { panels?: PanelJson[] }): PanelJson[] {
  const out: PanelJson[] = [];
  const visit = (ps: PanelJson[] | undefined) => {
    for (const p of ps ?? []) {
      out.push(p);
      visit(p.panels);
    }
  };
  visit(dashboard.panels);
  return out;
}

/** Every query of every panel that is not a row. */
export function panelQueries(dashboard: { panels?: PanelJson[] }): PanelQuery[] {
  const out: PanelQuery[] = [];
  for (const p of allPanels(dashboard)) {
    if (p.type === 'row') continue;
    for (const t of p.targets ?? []) {
      out.push({
        panelId: p.id ?? -1,
        panelTitle: p.title ?? '',
        panelType: p.type,
        refId: t.refId ?? '',
        expr: t.expr ?? '',
        instant: t.instant === true && t.range !== true,
      });
    }
  }
  return out;
}

/** Grafana's built-in interval variables, as concrete values for a short test range. */
const BUILTINS: Record<string, string> = {
  __rate_interval: '1m',
  __interval: '15s',
  __range: '5m',
  __range_s: '300',
  __range_ms: '300000',
};

/**
 * Replaces template variables ($name, ${name}, ${name:format}, [[name]]) by the given values or
 * Grafana's built-in interval variables; throws on a variable it does not know.
 */
export function substitute(expr: string, vars: Record<string, string>): string {
  const all = { ...BUILTINS, ...vars };
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)/g, (m, a?: string, b?: string, c?: string) => {
    const name = a ?? b ?? c ?? '';
    const v = all[name];
    if (v === undefined) throw new Error(`unknown variable ${m} in ${expr}`);
    return v;
  });
}
