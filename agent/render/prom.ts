// `--report --format prom`: the same exposition text `/metrics` serves, ready for node_exporter's
// textfile collector (no process metrics: those would describe this one-off run).
import { Registry } from 'prom-client';
import { ReportMetrics } from './metrics.js';
import type { Report } from '../model/report.js';

export async function renderProm(report: Report, maxObjects?: number): Promise<string> {
  const registry = new Registry();
  new ReportMetrics(registry, maxObjects).update(report);
  return registry.metrics();
}
