// layerdu's JSON report on the acceptance fixture (fixture-host.ts), for the core e2e tests
// (test/e2e/core-*.test.ts): one API-up report run once per mocha process and shared by them all,
// fresh reports taken between two measurements of a root the daemon may still be writing to, and
// the small lookups the tests compare with.
import assert from 'node:assert/strict';
import type { Report } from '../../agent/model/report.js';
import type { Fixture } from './fixture-host.js';
import { runReport, type ReportRun } from './oracles.js';

export const NO_API = 'unix:///nonexistent.sock';

export type JsonRun = ReportRun<Report> & { json: Report };

/** Runs the report and insists on exit 0 and a JSON object on stdout. */
export async function reportJson(args: string[], opts: Parameters<typeof runReport>[1] = {}): Promise<JsonRun> {
  const r = await runReport<Report>(['--format', 'json', ...args], opts);
  assert.equal(r.code, 0, `layerdu --report ${args.join(' ')} exited ${r.code ?? r.signal}; stderr:\n${r.stderr}`);
  assert.ok(r.json, `stdout is not JSON (${r.jsonError}): ${r.stdout.slice(0, 500)}`);
  return r as JsonRun;
}

export function byId<T extends { id: string }>(xs: T[]): Map<string, T> {
  return new Map(xs.map((x) => [x.id, x]));
}

export function sortBy<T>(xs: T[], key: (x: T) => string): T[] {
  return [...xs].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

let upRun: { fx: Fixture; run: Promise<JsonRun> } | null = null;

/**
 * The API-up report of the fixture, run on first use and shared by every core test of the mocha
 * process (as the fixture is); each test fails on its own if it failed.
 */
export async function upReport(fx: Fixture): Promise<Report> {
  if (upRun?.fx !== fx) upRun = { fx, run: reportJson(['--docker-root', fx.root, '--docker-host', fx.host]) };
  return (await upRun.run).json;
}

/**
 * A fresh API-up report with `measure` (a du) taken before and after it, once the two agree: the
 * daemon writes into its root now and then (BuildKit stores the sizes of its cache records in
 * buildkit/*.db the first time /system/df asks for them, filling holes of those sparse files),
 * and then there is no one figure to compare with. Three tries at most.
 */
export async function reportBetween<T>(fx: Fixture, measure: () => Promise<T>): Promise<{ rep: Report; measured: T }> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const before = await measure();
    const rep = (await reportJson(['--docker-root', fx.root, '--docker-host', fx.host])).json;
    if (JSON.stringify(await measure()) === JSON.stringify(before)) return { rep, measured: before };
  }
  throw new Error('the docker root kept changing during the report');
}
