// Scale (issue 14): made-up hosts of 250/500/1000 images and 500/1000/2000 containers
// (test/support/fake-host.ts: metadata and tiny overlay2 directories, no daemon), each kept in
// <base>/scale-<containers>/ with a marker of the generator it came from. Measured with the API
// unreachable: the metadata phase (the image, layer and container metadata collectors, which run
// concurrently: the longest of them) in the scan, and the same readers alone in this process, at
// each size and as ratios to the size below. The agent on the largest host, with the default cap
// and without, after its first scan: the exposition's size, and scrape latency (one scraper back
// to back, and 50 at once every second).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readImages } from '../../collectors/stores/graphdriver/imagedb.js';
import { readLayers, readMounts } from '../../collectors/stores/graphdriver/layerdb.js';
import { readContainers } from '../../collectors/sources/containers.js';
import type { Report } from '../../agent/model/report.js';
import { DEFAULT_MAX_OBJECTS } from '../../agent/render/metrics-cap.js';
import { startAgent } from '../support/agent-process.js';
import { writeFakeHost, type FakeHostSpec } from '../support/fake-host.js';
import { CLI } from '../support/oracles.js';
import { assertBenchRoot } from './fixture.js';
import { log } from './log.js';
import { median, timeCommand } from './measure.js';
import { latency, scrapeWhile, type Latency } from './scrapers.js';
import { SCRAPE_EVERY_MS } from './serving-bench.js';

export const SCALE_SIZES: FakeHostSpec[] = [
  { images: 250, containers: 500 },
  { images: 500, containers: 1000 },
  { images: 1000, containers: 2000 },
];
const METADATA = ['image-metadata', 'layer-metadata', 'containers'];
const MARKER = 'layerdu-scale-fixture.json';
const API_DOWN = 'unix:///nonexistent.sock';

/** The generator's own text: a changed generator makes new hosts. */
function generatorHash(): string {
  const file = fileURLToPath(new URL('../support/fake-host.js', import.meta.url));
  return createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 16);
}

export async function ensureScaleHost(base: string, spec: FakeHostSpec): Promise<string> {
  const root = path.join(base, `scale-${spec.containers}`);
  assertBenchRoot(root, base);
  const want = JSON.stringify({ generator: generatorHash(), spec });
  const have = await readFile(path.join(root, MARKER), 'utf8').catch(() => null);
  if (have === want) return root;
  log(`scale: writing a host of ${spec.images} images and ${spec.containers} containers in ${root}`);
  if (existsSync(root)) await rm(root, { recursive: true, force: true });
  await mkdir(root, { recursive: true });
  const t = performance.now();
  await writeFakeHost(root, spec);
  log(`scale: written in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  await writeFile(path.join(root, MARKER), want);
  return root;
}

type ScanJson = Report;

/** The report of `root`; run again once when it prints no JSON (a build under way in dist/). */
async function reportJson(root: string, extra: string[] = []): Promise<{ stdout: string }> {
  for (let attempt = 1; ; attempt++) {
    const t = await timeCommand(process.execPath, [CLI, '--report', '--docker-root', root, '--docker-host', API_DOWN, ...extra]);
    if (t.code === 0 && t.stdout.length > 0) return t;
    if (attempt === 2) throw new Error(`layerdu --report ${extra.join(' ')} on ${root}: exit ${t.code}; ${t.stderr.slice(-500)}`);
    log(`scale: the report failed (exit ${t.code}), once more in 5 s`);
    await new Promise((r) => setTimeout(r, 5000));
  }
}

export interface SizeResult {
  spec: FakeHostSpec;
  /** Medians over the runs, seconds. */
  metadataInScan: number;
  metadataAlone: number;
  scan: number;
  collectors: Record<string, number>;
  errorsOtherThanApi: number;
}

/** The metadata readers alone, one after the other, in this process. */
async function metadataAlone(root: string): Promise<number> {
  const img = path.join(root, 'image', 'overlay2');
  const problems: never[] = [];
  const t = performance.now();
  await readImages(img, problems);
  await readLayers(img, problems);
  await readMounts(img, problems);
  await readContainers(path.join(root, 'containers'), problems);
  return (performance.now() - t) / 1000;
}

async function measureSize(base: string, spec: FakeHostSpec, runs: number): Promise<SizeResult> {
  const root = await ensureScaleHost(base, spec);
  const scans: ScanJson[] = [];
  const alone: number[] = [];
  for (let i = 0; i <= runs; i++) {
    const r = JSON.parse((await reportJson(root, ['--format', 'json'])).stdout) as ScanJson;
    if (r.images.length !== spec.images || r.containers.length !== spec.containers) throw new Error(`scale ${spec.containers}: the report has ${r.images.length} images, ${r.containers.length} containers`);
    const a = await metadataAlone(root);
    // The first round warms the page cache.
    if (i > 0) {
      scans.push(r);
      alone.push(a);
    }
  }
  const of = (r: ScanJson, name: string) => r.scan.collectors.find((c) => c.name === name)?.durationSeconds ?? 0;
  const names = [...new Set(scans.flatMap((r) => r.scan.collectors.map((c) => c.name)))].sort();
  const result: SizeResult = {
    spec,
    metadataInScan: median(scans.map((r) => Math.max(...METADATA.map((m) => of(r, m))))),
    metadataAlone: median(alone),
    scan: median(scans.map((r) => r.scan.durationSeconds)),
    collectors: Object.fromEntries(names.map((n) => [n, +median(scans.map((r) => of(r, n))).toFixed(3)])),
    errorsOtherThanApi: scans[0]!.errors.filter((e) => e.source !== 'docker-api').length,
  };
  log(`scale ${spec.containers}: metadata ${result.metadataInScan.toFixed(3)} s in the scan, ${result.metadataAlone.toFixed(3)} s alone; scan ${result.scan.toFixed(2)} s`);
  return result;
}

export interface Exposition {
  maxObjects: number;
  bytes: number;
  series: number;
}

export interface ScrapeLatency extends Exposition {
  /** One scraper back to back, 5 s. */
  one: Latency;
  /** 50 scrapers at once every second, 5 s. */
  fifty: Latency;
}

/** The agent on `root` under a cap of `maxObjects`, after its first scan (the only one: the schedule is yearly): its exposition, and scrapes of it. */
async function serveHost(root: string, maxObjects: number): Promise<ScrapeLatency> {
  const agent = await startAgent(['--docker-root', root, '--docker-host', API_DOWN, '--scan.schedule', '0 0 1 1 *', '--metrics.max-objects', String(maxObjects)]);
  try {
    const text = await agent.scrapeAfter(0, 900_000);
    const url = `${agent.url}/metrics`;
    const timed = async (n: number, every: number) => {
      const t0 = performance.now();
      return latency(await scrapeWhile(url, n, t0, () => performance.now() - t0 > 5000, every));
    };
    return {
      maxObjects,
      bytes: Buffer.byteLength(text),
      series: text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length,
      one: await timed(1, 0),
      fifty: await timed(50, SCRAPE_EVERY_MS),
    };
  } finally {
    await agent.stop();
  }
}

export interface ScaleResult {
  sizes: SizeResult[];
  /** Each size's time over the size below's (the sizes double: 2 is linear). */
  ratios: { metadataInScan: number[]; metadataAlone: number[]; scan: number[] };
  /** The largest host's exposition, capped (the default) and not, and scrapes of each. */
  served: { capped: ScrapeLatency; uncapped: ScrapeLatency };
}

export async function benchScale(base: string, runs: number): Promise<ScaleResult> {
  const sizes: SizeResult[] = [];
  for (const spec of SCALE_SIZES) sizes.push(await measureSize(base, spec, runs));
  const ratio = (f: (s: SizeResult) => number) => sizes.slice(1).map((s, i) => +(f(s) / f(sizes[i]!)).toFixed(2));
  const largest = await ensureScaleHost(base, SCALE_SIZES[SCALE_SIZES.length - 1]!);
  log('scale: the agent on the largest host, capped (default) and not');
  const capped = await serveHost(largest, DEFAULT_MAX_OBJECTS);
  const uncapped = await serveHost(largest, 0);
  return {
    sizes,
    ratios: { metadataInScan: ratio((s) => s.metadataInScan), metadataAlone: ratio((s) => s.metadataAlone), scan: ratio((s) => s.scan) },
    served: { capped, uncapped },
  };
}
