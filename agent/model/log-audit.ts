// The log-rotation audit: which limit bounds each container's log files, and which containers'
// json-file logs have none (they grow until the disk is full). Pure: the containers' and the
// daemon's log configurations in, and, for growth, the previous scan's log bytes as plain data.
import type { LogConfigFact } from '../../collectors/lib/log-config.js';
import type { ContainerReport, Report } from './report.js';

/** The `local` driver's own defaults (moby daemon/logger/local): 20 MiB a file, 5 files. */
export const LOCAL_MAX_SIZE = 20 * 1024 * 1024;
export const LOCAL_MAX_FILE = 5;

/** Drivers that write files under the docker root; the others' logs leave the host's disk to them. */
const FILE_DRIVERS = new Set(['json-file', 'local']);

/** Extension: what bounds a container's log files (../shared/contract.md has `logs` only). */
export interface LogLimit {
  /** The log driver; only `json-file` and `local` write under the docker root. */
  driver: string;
  /** Bytes a log file may reach before it is rotated; null: no limit, or not applicable (another driver). */
  maxSize: number | null;
  /** How many files are kept, the one written included; null with no limit or another driver. */
  maxFile: number | null;
  /**
   * Where the limit came from: the container's own `--log-opt`, the daemon's `log-opts` (the same
   * value daemon.json gives, which Docker copied in when it created the container), the driver's
   * own default (`local`), or none.
   */
  source: 'container' | 'daemon' | 'default' | null;
}

/** A container whose json-file logs have no `max-size`. */
export interface LogAuditEntry {
  containerId: string;
  name: string;
  driver: string;
  /** Disk bytes of its logs now. */
  logs: number;
  /** Since the previous scan (the agent's); null on a one-off report or a container new since then. */
  growth: { bytes: number; seconds: number } | null;
}

/** The previous scan's log bytes of each container (disk), and when that scan started (Unix seconds). */
export type PreviousLogs = ReadonlyMap<string, { bytes: number; at: number }>;

/**
 * The limit a container's logger runs with. Docker merged the daemon's `log-opts` into the record
 * when it created the container (when their drivers are the same), so the record alone decides;
 * a record without a driver (never merged) takes the daemon's default as Docker would.
 */
export function logLimitOf(log: LogConfigFact, daemon: LogConfigFact | null): LogLimit {
  const daemonDriver = daemon?.driver || 'json-file';
  const driver = log.driver || daemonDriver;
  if (!FILE_DRIVERS.has(driver)) return { driver, maxSize: null, maxFile: null, source: null };
  // The daemon's options apply to its own default driver only.
  const d = daemon !== null && driver === daemonDriver ? daemon : null;
  const merged = log.driver === '' && d ? { maxSize: log.maxSize ?? d.maxSize, maxFile: log.maxFile ?? d.maxFile } : log;
  const local = driver === 'local';
  if (merged.maxSize === null) {
    return local ? { driver, maxSize: LOCAL_MAX_SIZE, maxFile: merged.maxFile ?? LOCAL_MAX_FILE, source: 'default' } : { driver, maxSize: null, maxFile: null, source: null };
  }
  const source = d?.maxSize === merged.maxSize ? 'daemon' : 'container';
  return { driver, maxSize: merged.maxSize, maxFile: merged.maxFile ?? (local ? LOCAL_MAX_FILE : 1), source };
}

/** Whether a limit leaves the log files unbounded: json-file without `max-size`. */
export const unbounded = (l: LogLimit | undefined): boolean => l !== undefined && l.driver === 'json-file' && l.maxSize === null;

/** Exactly the containers whose json-file logs have no `max-size`, biggest log first. */
export function logAudit(containers: readonly ContainerReport[], previous: PreviousLogs | undefined, startedAt: string): LogAuditEntry[] {
  const now = Date.parse(startedAt) / 1000;
  return containers
    .filter((c) => unbounded(c.logLimit))
    .map((c) => {
      const before = previous?.get(c.id);
      const seconds = before ? now - before.at : 0;
      return {
        containerId: c.id,
        name: c.name,
        driver: c.logLimit!.driver,
        logs: c.logs,
        growth: before && seconds > 0 ? { bytes: c.logs - before.bytes, seconds } : null,
      };
    })
    .sort((a, b) => b.logs - a.logs || (a.containerId < b.containerId ? -1 : a.containerId > b.containerId ? 1 : 0));
}

/** What the next scan compares with: this report's log bytes of every container, and when it started. */
export function previousLogsOf(report: Pick<Report, 'containers' | 'scan'>): PreviousLogs {
  const at = Date.parse(report.scan.startedAt) / 1000;
  return new Map(report.containers.map((c) => [c.id, { bytes: c.logs, at }]));
}
