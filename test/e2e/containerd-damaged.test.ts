// Acceptance tests of the containerd store reader on damaged metadata: copies of a small stopped
// containerd-store host (test/support/containerd-damage.ts) whose meta.db or metadata.db is
// corrupted, truncated, or rewritten while layerdu reads it. The report still comes out (exit 0),
// the problem is named once in `errors` and once on stderr, and the figures that do not depend on
// the broken file are those of the intact copy: never a wrong number without an error.
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { META_DB, METADATA_DB } from '../support/containerd-ctr.js';
import {
  DMG_VOLUME, DMG_VOLUME_BYTES, PAGE_FLAGS, boltMeta, buildDamageHost, copyOf, corrupt, rootPageFlags, startRewriter,
  truncateBeforeRoot, type DamageHost, type Roots,
} from '../support/containerd-damage.js';
import { apparentOf, duRoots } from '../support/containerd-oracles.js';
import { API_ONLY, NO_API, canonical, cdReport, naming, type CdReport, type CdRun } from '../support/containerd-report.js';
import { findExecutable } from '../support/dockerd.js';
import { duB1, lines, sumSizes } from '../support/oracles.js';

type How = 'corrupted' | 'truncated' | 'rewritten';
const FILES = [META_DB, METADATA_DB] as const;
const caseName = (file: string, how: How) => `${path.basename(file, '.db')}-${how}`;

/**
 * The figures that do not depend on `file`: without meta.db, volumes, logs and the containers'
 * own records (all in the docker root); without metadata.db, also the images, their chains and
 * blobs (meta.db) and the content blobs (files and meta.db). Paths are made relative to the copy.
 */
function independent(file: string, r: CdReport, copyDir: string): unknown {
  const rel = (p: string) => p.split(copyDir).join('<copy>');
  const out: Record<string, unknown> = {
    dockerRoot: rel(r.dockerRoot),
    volumes: r.volumes,
    containers: r.containers.map((c) => ({ id: c.id, imageId: c.imageId, logs: c.logs, logsApparent: c.logsApparent })),
    totals: { volumes: r.totals.disk.volumes, logs: r.totals.disk.logs },
  };
  if (file === METADATA_DB) {
    out.images = r.images.map((i) => ({ id: i.id, tags: i.tags, layers: i.layers, content: i.content, containers: i.containers }));
    out.content = r.content;
    out.imageContent = r.totals.disk.imageContent;
  }
  return canonical(out, []);
}

/** The whole report, paths relative to the copy, less what the API gives and what a rewritten file's size moves. */
function whole(r: CdReport, copyDir: string): unknown {
  const moved = ['totals.disk.other', 'totals.disk.total', 'totals.apparent.other', 'totals.apparent.total', 'stores.disk'];
  return canonical(JSON.parse(JSON.stringify(r).split(copyDir).join('<copy>')), [...API_ONLY, ...moved]);
}

/** The errors and stderr lines besides those naming `key` are exactly the one about the API. */
function onlyApiBesides(r: CdRun, key: string): void {
  const others = r.json.errors.filter((e) => !`${e.path ?? ''} ${e.message}`.includes(key));
  assert.equal(others.length, 1, `errors besides ${key}: ${JSON.stringify(others, null, 1)}`);
  assert.match(`${others[0]!.path ?? ''} ${others[0]!.message}`, /api|nonexistent\.sock/i);
  const otherLines = lines(r.stderr).filter((l) => !l.includes(key));
  assert.equal(otherLines.length, 1, `stderr besides ${key}:\n${r.stderr}`);
}

describe('layerdu --report on a damaged containerd store (copies of a stopped host)', function () {
  let host: DamageHost | null = null;
  let intact: CdRun;
  const cases = new Map<string, { roots: Roots; dir: string; damage: string }>();

  before(async function () {
    if (process.getuid?.() !== 0 || !findExecutable('busybox')) this.skip();
    host = await buildDamageHost();
    for (const file of FILES) {
      for (const how of ['corrupted', 'truncated', 'rewritten'] as How[]) {
        const name = caseName(file, how);
        const roots = await copyOf(host, name);
        const target = path.join(roots.containerdRoot, file);
        const damage = how === 'corrupted' ? await corrupt(target) : how === 'truncated' ? await truncateBeforeRoot(target) : 'rewritten during the scan';
        cases.set(name, { roots, dir: path.join(host.dir, name), damage });
      }
    }
    console.log(`      damaged-store host built and copied in ${host.buildSeconds.toFixed(1)} s`);
  });

  after(async function () {
    if (host) await rm(host.dir, { recursive: true, force: true });
  });

  it('0. the copies: each bbolt file is damaged as intended, the pristine ones are sound (no layerdu)', async function () {
    const h = host!;
    for (const file of FILES) {
      const sound = await readFile(path.join(h.pristine.containerdRoot, file));
      const m = boltMeta(sound);
      assert.ok(m.rootPage >= 2 && m.rootPage < m.pages, `${file}: root page ${m.rootPage} of ${m.pages}`);
      assert.ok(PAGE_FLAGS.includes((await rootPageFlags(path.join(h.pristine.containerdRoot, file)))!), `${file}: root page flags`);
      const bad = await rootPageFlags(path.join(cases.get(caseName(file, 'corrupted'))!.roots.containerdRoot, file));
      assert.ok(bad !== null && !PAGE_FLAGS.includes(bad), `${file} corrupted: root page flags ${bad}`);
      assert.equal(await rootPageFlags(path.join(cases.get(caseName(file, 'truncated'))!.roots.containerdRoot, file)), null);
    }
  });

  it('7. the intact copy: exit 0, only the API error, figures as du says', async function () {
    const h = host!;
    intact = await cdReport(h.pristine, NO_API);
    const r = intact.json;
    assert.equal(r.errors.length, 1, JSON.stringify(r.errors));
    assert.equal(lines(intact.stderr).length, 1, intact.stderr);
    assert.deepEqual(r.images.map((i) => i.id).sort(), h.images.map((i) => i.id).sort());
    assert.deepEqual(r.orphans, []);
    const vol = r.volumes.find((v) => v.name === DMG_VOLUME);
    assert.ok(vol, DMG_VOLUME);
    assert.deepEqual({ disk: vol.disk, apparent: vol.apparent }, { disk: await duB1(h.volumeData), apparent: DMG_VOLUME_BYTES });
    const writer = r.containers.find((c) => c.id === h.writer.id)!;
    assert.equal(writer.logs, await duB1(h.writer.log));
    assert.equal(writer.logsApparent, await sumSizes([h.writer.log]));
    assert.equal(r.totals.disk.total, await duRoots(h.pristine));
    assert.equal(await apparentOf(h.volumeData), DMG_VOLUME_BYTES);
  });

  for (const file of FILES) {
    for (const how of ['corrupted', 'truncated'] as How[]) {
      it(`7. ${file} ${how}: exit 0, named once in errors and on stderr, the rest as the intact copy`, async function () {
        assert.ok(intact, 'the intact run (above) is the reference');
        const c = cases.get(caseName(file, how))!;
        const r = await cdReport(c.roots, NO_API);
        const n = naming(r, file);
        assert.equal(n.errors.length, 1, `${c.damage}: errors naming ${file}: ${JSON.stringify(r.json.errors, null, 1)}`);
        assert.equal(n.stderr.length, 1, `${c.damage}: stderr lines naming ${file}:\n${r.stderr}`);
        onlyApiBesides(r, file);
        assert.deepEqual(
          independent(file, r.json, c.dir),
          independent(file, intact.json, path.dirname(host!.pristine.root)),
          `${c.damage}: the figures that do not depend on ${file}; errors: ${JSON.stringify(r.json.errors)}`,
        );
        assert.equal(r.json.totals.disk.total, await duRoots(c.roots), 'every byte of the two roots, once, whatever the metadata says');
      });
    }
    it(`7. ${file} rewritten while being read: exit 0; either the intact figures, or the problem named once and the rest intact`, async function () {
      assert.ok(intact, 'the intact run (above) is the reference');
      const c = cases.get(caseName(file, 'rewritten'))!;
      const target = path.join(c.roots.containerdRoot, file);
      const rw = await startRewriter(target);
      let r: CdRun;
      let fullDisk: number;
      try {
        r = await cdReport(c.roots, NO_API);
      } finally {
        ({ fullDisk } = await rw.stop());
      }
      const n = naming(r, file);
      assert.ok(n.errors.length <= 1, `errors naming ${file}: ${JSON.stringify(n.errors, null, 1)}`);
      assert.equal(n.stderr.length, n.errors.length, `stderr lines naming ${file}:\n${r.stderr}`);
      onlyApiBesides(r, file);
      console.log(`      ${file}: ${n.errors.length === 0 ? 'read whole' : `named: ${n.errors[0]!.message}`}`);
      const pristineDir = path.dirname(host!.pristine.root);
      if (n.errors.length === 0) assert.deepEqual(whole(r.json, c.dir), whole(intact.json, pristineDir), 'read whole: every figure as intact');
      else assert.deepEqual(independent(file, r.json, c.dir), independent(file, intact.json, pristineDir), JSON.stringify(r.json.errors));
      // A bound: the file's own blocks moved between 0 and all of them while it was walked.
      const rest = (await duRoots(c.roots)) - fullDisk;
      const t = r.json.totals.disk.total;
      assert.ok(t >= rest && t <= rest + fullDisk, `totals.disk.total ${t} outside [${rest}, ${rest + fullDisk}]`);
    });
  }
});
