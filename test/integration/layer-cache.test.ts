// The persisted layer cache (issue 16) on the recorded root extracted onto a loop ext4 (a copy of
// our own, safe to change): a second --report reuses every committed image layer and says the
// same; a damaged cache file is one warning line, the same figures, and is written anew; a layer
// directory made again under the same id (what `docker rmi` and a rebuild that reuses the id leave)
// is walked again, with no stale figure. The cache directory is a temporary one, never the roots.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { API, normaliseJson, scanArgs, useRecordedRoot, type Report } from '../support/golden-run.js';
import { runReport, type ReportRun } from '../support/oracles.js';

interface Scanned {
  scan: { layersWalked: number; layersReused: number };
  layers: { chainId: string; cacheId?: string | null; disk: number; apparent: number }[];
}

const API_LINE = `layerdu: docker-api: ${API}: unreachable, figures come from disk alone: no socket at /nonexistent.sock`;

/** The figures, without what differs from run to run (timings) and the walked/reused counts. */
function figures(r: ReportRun<Report & Scanned>, x: Parameters<typeof normaliseJson>[1]): unknown {
  const o = JSON.parse(normaliseJson(r.stdout, x)) as Record<string, unknown> & { scan: Record<string, unknown>; filesystem: Record<string, unknown> };
  delete o.scan.layersWalked;
  delete o.scan.layersReused;
  // The loop filesystem's free space moves as the cache is written elsewhere: no figure of ours.
  for (const k of ['avail', 'used', 'size', 'free']) delete o.filesystem[k];
  return o;
}

describe('persisted layer cache on the recorded root (issue 16)', function () {
  this.timeout(180_000);
  const x = useRecordedRoot();
  let cacheDir: string;
  before(async () => {
    cacheDir = await mkdtemp(path.join(tmpdir(), 'ldu-cache-it-'));
  });
  after(() => rm(cacheDir, { recursive: true, force: true }));

  const report = (extra: string[]) => runReport<Report & Scanned>([...scanArgs(x(), 'json'), ...extra]);
  const withCache = () => report(['--cache.dir', cacheDir]);
  const ran = (r: ReportRun, what: string, stderr: string[] = [API_LINE]) => {
    assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stderr}`);
    assert.deepEqual(r.stderr.split('\n').filter(Boolean), stderr, `${what}: stderr`);
  };
  let base: ReportRun<Report & Scanned>;
  let imageLayers: number;

  it('a second --report reuses every committed image layer and gives the same figures', async () => {
    base = await report(['--no-cache']);
    ran(base, '--no-cache');
    assert.deepEqual(await readdir(cacheDir), [], '--no-cache writes nothing');
    imageLayers = base.json!.scan.layersWalked;
    assert.ok(imageLayers >= 2, `the recorded root has image layers (${imageLayers})`);
    assert.equal(imageLayers, base.json!.layers.filter((l) => l.cacheId).length, 'one walk per image layer');

    const first = await withCache();
    ran(first, 'first run with the cache');
    assert.deepEqual([first.json!.scan.layersWalked, first.json!.scan.layersReused], [imageLayers, 0]);
    const files = await readdir(cacheDir);
    assert.equal(files.length, 1, `one cache file: ${files.join(', ')}`);
    assert.match(files[0]!, /^layers-[0-9a-f]{16}\.cache$/);

    const second = await withCache();
    ran(second, 'second run');
    assert.deepEqual([second.json!.scan.layersWalked, second.json!.scan.layersReused], [0, imageLayers], 'every committed layer reused');
    assert.deepEqual(figures(second, x()), figures(base, x()), 'the same figures as without the cache');
    assert.deepEqual(figures(first, x()), figures(base, x()));
    // Nothing was written under the docker root.
    assert.equal((await readdir(x().root)).some((n) => n.includes('cache')), false);
  });

  it('a damaged cache file: exit 0, one warning line, the same figures, and it is written anew', async () => {
    const file = path.join(cacheDir, (await readdir(cacheDir))[0]!);
    const bytes = await readFile(file);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x5a;
    await writeFile(file, bytes);
    const r = await withCache();
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stderr.split('\n').filter(Boolean);
    assert.equal(lines.length, 2, r.stderr);
    assert.equal(lines.filter((l) => l !== API_LINE).length, 1);
    assert.match(lines.find((l) => l !== API_LINE)!, /^layerdu: layer cache .*\.cache ignored \(checksum mismatch\): every layer is walked and the cache written anew$/);
    assert.deepEqual([r.json!.scan.layersWalked, r.json!.scan.layersReused], [imageLayers, 0]);
    assert.deepEqual(figures(r, x()), figures(base, x()));
    const again = await withCache();
    ran(again, 'after the rewrite');
    assert.equal(again.json!.scan.layersReused, imageLayers);

    await writeFile(file, 'truncated');
    const t = await withCache();
    assert.equal(t.code, 0);
    assert.equal(t.stderr.split('\n').filter((l) => l && l !== API_LINE).length, 1, t.stderr);
    assert.deepEqual(figures(t, x()), figures(base, x()));
  });

  it('a layer directory made again under the same id is walked again: no stale figure', async () => {
    const layer = [...base.json!.layers].filter((l) => l.cacheId).sort((a, b) => a.apparent - b.apparent)[0]!;
    const diff = path.join(x().root, 'overlay2', layer.cacheId!, 'diff');
    // What `docker rmi` and a rebuild that gets the same id leave: a new directory, other content.
    // GNU cp -a: whiteouts are character devices, opaque markers xattrs.
    execFileSync('cp', ['-a', '--preserve=all', diff, `${diff}.new`]);
    await writeFile(path.join(`${diff}.new`, 'added-by-rebuild'), Buffer.alloc(12_345, 1));
    await sleep(20);
    await rm(diff, { recursive: true });
    await rename(`${diff}.new`, diff);

    const r = await withCache();
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([r.json!.scan.layersWalked, r.json!.scan.layersReused], [1, imageLayers - 1], 'only the remade layer walked');
    const now = r.json!.layers.find((l) => l.chainId === layer.chainId)!;
    assert.equal(now.apparent, layer.apparent + 12_345, 'its new content, not the kept figure');
    const fresh = await report(['--no-cache']);
    assert.deepEqual(figures(r, x()), figures(fresh, x()), 'what a walk without the cache says');
    const next = await withCache();
    assert.deepEqual([next.json!.scan.layersWalked, next.json!.scan.layersReused], [0, imageLayers]);
    assert.deepEqual(figures(next, x()), figures(fresh, x()));
  });

  it('refuses a cache directory under the docker root with one line, exit 2', async () => {
    const r = await report(['--cache.dir', path.join(x().root, 'image', 'layerdu-cache')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr.trim(), /^layerdu: --cache\.dir .* is under the docker root .*: layerdu never writes there$/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });
});
