// One runner for every collector, as node_exporter has: it times each run, stamps the
// collector's name on every problem the run reports, and says whether it succeeded (it threw
// nothing and reported nothing), for `layerdu_collector_success` and `_duration_seconds`.
import type { Problem, ScanError } from '../../collectors/lib/facts.js';
import { describeError } from '../../collectors/lib/errors.js';
import type { Collect } from '../../collectors/stores/store.js';
import type { CollectorRun } from '../model/report.js';

export class CollectorRunner {
  readonly errors: ScanError[] = [];
  private readonly runs: CollectorRun[] = [];

  /** Runs `work`; a throw is one problem of the collector, and `fallback` stands in. */
  readonly collect: Collect = async (name, work, fallback) => {
    const problems: Problem[] = [];
    const start = performance.now();
    let threw = false;
    try {
      return await work(problems);
    } catch (e) {
      threw = true;
      problems.push({ path: null, message: describeError(e) });
      return fallback;
    } finally {
      for (const p of problems) this.errors.push({ source: name, path: p.path, message: p.message });
      this.runs.push({ name, success: !threw && problems.length === 0, durationSeconds: (performance.now() - start) / 1000 });
    }
  };

  /** One entry per collector, by name: a collector that runs in parts (layers, mounts) is one source. */
  collectors(): CollectorRun[] {
    const byName = new Map<string, CollectorRun>();
    for (const r of this.runs) {
      const prev = byName.get(r.name);
      byName.set(r.name, prev ? { name: r.name, success: prev.success && r.success, durationSeconds: Math.max(prev.durationSeconds, r.durationSeconds) } : r);
    }
    return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }
}
