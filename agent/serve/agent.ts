// The long-running agent: scans on a schedule, serves the last finished scan over HTTP.
import { collectDefaultMetrics, Registry } from 'prom-client';
import { log } from './log.js';
import { ReportMetrics } from '../render/metrics.js';
import { previousLogsOf } from '../model/log-audit.js';
import type { Report } from '../model/report.js';
import { ScanLoop } from './scheduler.js';
import { PersistedLayerCache, type CacheSetup } from '../scan/persisted-cache.js';
import { scan, type LayerCache, type ScanOptions } from '../scan/scan.js';
import type { ListingsMemo } from '../scan/walk-dirs.js';
import type { CopyUpMemo } from '../scan/stepped-analyses.js';
import { VERSION } from '../cli/version.js';
import { startServer } from './server.js';
import { loadXattr } from '../../collectors/walk/tally.js';
import { forceCollections } from '../../collectors/walk/collect-garbage.js';
import { findSlotCount, prepareWalkers } from '../../collectors/walk/walk-tree.js';
import { configureWalks } from '../../collectors/walk/concurrency.js';
import type { WebConfig } from './web-config.js';

/** What each scan is given (the flags' values), and how the agent serves. */
export interface AgentOptions extends Pick<ScanOptions, 'dockerRoot' | 'dockerHost' | 'host' | 'containerd' | 'apiTimeoutMs' | 'ownerLabels' | 'podLogs'> {
  schedule: string;
  listen: string;
  telemetryPath: string;
  webConfig: WebConfig | null;
  /** --metrics.max-objects: per-object series of each kind beyond it are summed as `_other`. */
  maxObjects: number;
  /** --walk.concurrency: finds walking at once (0 or absent: by the docker root's device). */
  walkConcurrency?: number;
  /** --cache.dir: the layer cache kept across restarts; null with --no-cache. */
  cacheSetup?: CacheSetup | null;
}

// A scan slower than this is worth one line in the journal.
const SLOW_SCAN_SECONDS = 60;

export async function runAgent(opts: AgentOptions): Promise<void> {
  // Loaded before the server listens: evaluating the client's modules (and the xattr addon the
  // walks need) holds this thread for a few hundred milliseconds, which a scrape must never wait behind.
  // The host's facts, once (systeminformation spawns lsblk and smartctl: at start, never per
  // scan or scrape), and from them how many finds walk at once; learnt while dockerode loads.
  const learning = performance.now();
  const hostFacts = configureWalks(opts.host, opts.dockerRoot, { given: opts.walkConcurrency, systeminformation: true });
  void hostFacts.then((f) => {
    const took = Math.round(performance.now() - learning);
    log('info', 'host', { os: f.os, kernel: f.kernel, device: f.device.name ?? '', device_type: f.device.type, finds: findSlotCount(), took_ms: took });
  });
  // systeminformation is some hundred CommonJS files: compiled here, not while the first scrapes
  // wait (its programs, lsblk and smartctl, then run beside the server).
  await Promise.all([import('dockerode'), import('systeminformation')]);
  loadXattr();
  prepareWalkers();
  // No collections forced where a big index is put together (collect-garbage.ts): they would
  // hold a scrape (1M files: p99 135 ms during the first scan, 44 ms without).
  forceCollections(false);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // prom-client exports these gauges with a counter's `_total` suffix, which promtool rejects.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
    registry.removeSingleMetric(name);
  }
  // The report's gauges change only when a scan ends: they are rendered then, once, and each
  // scrape adds the process metrics to that text, so a host's thousands of series cost a scrape
  // nothing (rendering 8,000 series takes tens of milliseconds). The text is swapped whole.
  const reportRegistry = new Registry();
  const metrics = new ReportMetrics(reportRegistry, opts.maxObjects);
  let reportText = await reportRegistry.metrics();
  // The persisted layer cache, read before the first scan: after a restart, committed layers
  // whose directories still carry their stamps are not walked again.
  const persisted = opts.cacheSetup ? await PersistedLayerCache.open(opts.cacheSetup, VERSION, (m) => log('warn', m)) : null;
  if (persisted) log('info', 'layer cache', { file: persisted.file, layers: persisted.size });
  const layerCache: LayerCache = persisted?.cache ?? new Map();
  const wasteMemo = persisted?.wasteMemo ?? { current: new Map() };
  const copyUpMemo: CopyUpMemo = { current: new Map() };
  const listings: ListingsMemo = { scan: 0, current: new Map() };
  let last: Report | null = null;
  let slowLogged = false;

  const loop = new ScanLoop(opts.schedule, async () => {
    const { dockerRoot, dockerHost, host, containerd, apiTimeoutMs, ownerLabels, podLogs } = opts;
    // The previous scan's log bytes, for the log audit's growth since then.
    const previousLogs = last ? previousLogsOf(last) : undefined;
    const report = await scan({ dockerRoot, dockerHost, host, containerd, apiTimeoutMs, ownerLabels, podLogs, layerCache, wasteMemo, copyUpMemo, listings, previousLogs, hostFacts: await hostFacts });
    metrics.update(report);
    reportText = await reportRegistry.metrics();
    // Written only when this scan changed it (a layer walked or gone): the check is cheap.
    if (persisted) await persisted.saveIfChanged();
    const firstProblems = last === null || last.errors.length !== report.errors.length;
    last = report;
    const s = report.scan;
    log('info', 'scan finished', {
      duration_s: s.durationSeconds.toFixed(3),
      layers_walked: s.layersWalked,
      layers_reused: s.layersReused,
      errors: report.errors.length,
      api_up: report.apiUp,
    });
    // Problems are logged when their number changes, not at every scan of a host that stays broken.
    if (firstProblems) for (const e of report.errors) log('warn', e.message, { source: e.source, path: e.path ?? undefined });
    if (s.durationSeconds > SLOW_SCAN_SECONDS && !slowLogged) {
      log('warn', 'slow scan', { duration_s: s.durationSeconds.toFixed(1) });
      slowLogged = true;
    }
  });

  // The first rendering pays for compiling and the first /proc reads, and starting the schedule
  // (node-cron's first task) takes a few tens of milliseconds: neither is a scraper's wait.
  await registry.metrics();
  loop.start();
  const server = await startServer({
    listen: opts.listen,
    telemetryPath: opts.telemetryPath,
    webConfig: opts.webConfig,
    metrics: async () => `${reportText}\n${await registry.metrics()}`,
    contentType: registry.contentType,
    health: () => ({
      healthy: true,
      detail: { status: 'ok', scanning: loop.busy, lastScan: last?.scan.finishedAt ?? null, apiUp: last?.apiUp ?? null },
    }),
  });
  log('info', 'listening', { address: `${server.address.address}:${server.address.port}`, tls: opts.webConfig?.tls ? 'on' : 'off', path: opts.telemetryPath });

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log('info', 'stopping', { signal });
      // Walks only read, so an unfinished scan is simply abandoned.
      setTimeout(() => process.exit(0), 4000).unref();
      void Promise.all([loop.stop(), server.close()]).then(() => resolve());
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  process.exit(0);
}
