// A report of an empty overlay2 host, for the renderers' unit tests to fill in.
import type { Report } from '../../agent/model/report.js';

export const zeroTotals = { imageLayers: 0, imageContent: 0, containerLayers: 0, volumes: 0, logs: 0, buildCache: 0, orphans: 0, other: 0, total: 0 };

export function emptyReport(over: Partial<Report> = {}): Report {
  return {
    dockerRoot: '/var/lib/docker',
    apiUp: true,
    driver: { name: 'overlay2', store: 'graphdriver', backingFs: 'ext4', dType: true, vfsFallback: false, reason: '' },
    stores: [],
    content: [],
    filesystem: null,
    images: [],
    layers: [],
    containers: [],
    volumes: [],
    owners: [],
    orphans: [],
    buildCache: { disk: 0, apparent: 0, dirs: 0 },
    reclaim: [],
    totals: { disk: zeroTotals, apparent: zeroTotals, naiveVirtual: 0 },
    errors: [],
    scan: { startedAt: '2026-11-23T12:00:00Z', finishedAt: '2026-11-23T12:00:01Z', durationSeconds: 1, collectors: [], layersWalked: 2, layersReused: 0 },
    ...over,
  };
}
