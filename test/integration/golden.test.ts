// The whole scan on a recorded docker root, no daemon (like node_exporter's end-to-end fixtures
// test): test/fixtures/docker-root/root.tar.gz (made once by test/support/record-root.ts) is
// extracted onto a fresh loop-mounted ext4 made with fixed options, scanned by the built CLI with
// the Docker API unreachable, and the output compared with the goldens beside the tar after
// normalising only what depends on the run (see normaliseJson / normaliseProm / normaliseText in
// test/support/golden-run.ts). golden-oracles.test.ts checks a few golden figures against
// independent oracles: du on the extracted tree, and what Docker itself said when the root was
// recorded (recording.json).
//
//   UPDATE_GOLDEN=1 npx mocha --no-config --timeout 120000 dist/test/integration/golden.test.js
//
// rewrites the goldens instead of comparing (review the diff: every figure in them is a claim).
// Needs root (mount, loop devices, mknod for whiteouts, trusted.* xattrs) and GNU tar, mkfs.ext4,
// losetup, du and GNU find.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { FIXTURE_DIR } from '../support/golden-root.js';
import {
  assertRan, normaliseJson, normaliseProm, normaliseText, scanArgs, useRecordedRoot, type Report,
} from '../support/golden-run.js';
import { runReport } from '../support/oracles.js';

const UPDATE = process.env.UPDATE_GOLDEN === '1';
const GOLDEN_JSON = path.join(FIXTURE_DIR, 'report.golden.json');
const GOLDEN_PROM = path.join(FIXTURE_DIR, 'report.golden.prom');
const GOLDEN_TEXT = path.join(FIXTURE_DIR, 'report.golden.txt');
const GOLDEN_DOT = path.join(FIXTURE_DIR, 'report.golden.dot');

/** Compares with a golden file, or rewrites it under UPDATE_GOLDEN=1. */
function checkGolden(file: string, actual: string, what: string): void {
  if (UPDATE) {
    writeFileSync(file, actual);
    return;
  }
  assert.ok(existsSync(file), `${file} is missing: make it with UPDATE_GOLDEN=1`);
  const expected = readFileSync(file, 'utf8');
  if (file.endsWith('.json')) {
    // A readable difference first, then byte for byte (key order, layout).
    assert.deepStrictEqual(JSON.parse(actual), JSON.parse(expected), `${what} differs from ${path.basename(file)}`);
  }
  assert.equal(actual, expected, `${what} differs from ${path.basename(file)}`);
}

describe('golden: a recorded docker root scanned with no daemon', function () {
  this.timeout(120_000);
  const x = useRecordedRoot();

  it('--format json (GNU find walker) matches report.golden.json', async function () {
    const r = await runReport<Report>(scanArgs(x(), 'json'), { env: { LAYERDU_WALKER: '' } });
    assertRan(r, 'json, find');
    assert.ok(r.json, `stdout is JSON: ${r.jsonError}`);
    checkGolden(GOLDEN_JSON, normaliseJson(r.stdout, x()), 'the JSON report (find walker)');
  });

  it('--format json with LAYERDU_WALKER=node matches the same golden', async function () {
    const r = await runReport<Report>(scanArgs(x(), 'json'), { env: { LAYERDU_WALKER: 'node' } });
    assertRan(r, 'json, node walker');
    if (UPDATE) return; // the golden was just written from the find walker's run: compare with it
    checkGolden(GOLDEN_JSON, normaliseJson(r.stdout, x()), 'the JSON report (node walker)');
  });

  it('a second scan of the same root gives the same normalised JSON', async function () {
    const r = await runReport<Report>(scanArgs(x(), 'json'), { env: { LAYERDU_WALKER: '' } });
    assertRan(r, 'json, again');
    assert.equal(normaliseJson(r.stdout, x()), readFileSync(GOLDEN_JSON, 'utf8'));
  });

  it('--format prom matches report.golden.prom', async function () {
    const r = await runReport(scanArgs(x(), 'prom'), { env: { LAYERDU_WALKER: '' } });
    assertRan(r, 'prom');
    checkGolden(GOLDEN_PROM, normaliseProm(r.stdout, x()), 'the prom report');
  });

  it('--format text matches report.golden.txt', async function () {
    const r = await runReport(scanArgs(x(), 'text'), { env: { LAYERDU_WALKER: '' } });
    assertRan(r, 'text');
    checkGolden(GOLDEN_TEXT, normaliseText(r.stdout, x()), 'the text report');
  });

  it('--format dot matches report.golden.dot', async function () {
    const r = await runReport(scanArgs(x(), 'dot'), { env: { LAYERDU_WALKER: '' } });
    assertRan(r, 'dot');
    checkGolden(GOLDEN_DOT, normaliseText(r.stdout, x()), 'the dot report');
  });
});
