// The log audit's series under the cap on per-object series (metrics-cap.ts): a container whose
// own series were folded into `_other` is folded here too, so that the log gauges join
// layerdu_container_bytes on container_id, and a host of thousands of unbounded containers does
// not export thousands of series. `_other` counts the folded containers and sums their growth.
import type { LogAuditEntry } from '../model/log-audit.js';
import { OTHER } from './metrics-cap.js';

export interface LogSeries {
  labels: { container_id: string; name: string };
  /** layerdu_container_log_unbounded: 1 a container, the number folded for `_other`. */
  unbounded: number;
  /** Bytes a second; null when no entry of it has a growth. */
  growth: number | null;
}

/** The audit's series, keeping those of `kept` (the capped report's container ids) and folding the rest. */
export function logSeries(audit: readonly LogAuditEntry[], kept: ReadonlySet<string>): LogSeries[] {
  const rate = (a: LogAuditEntry) => (a.growth ? a.growth.bytes / a.growth.seconds : null);
  const own = audit.filter((a) => kept.has(a.containerId));
  const folded = audit.filter((a) => !kept.has(a.containerId));
  const out: LogSeries[] = own.map((a) => ({ labels: { container_id: a.containerId, name: a.name }, unbounded: 1, growth: rate(a) }));
  if (folded.length) {
    const rates = folded.map(rate).filter((r): r is number => r !== null);
    out.push({ labels: { container_id: OTHER, name: OTHER }, unbounded: folded.length, growth: rates.length ? rates.reduce((s, r) => s + r, 0) : null });
  }
  return out;
}
