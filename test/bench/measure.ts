// Timing one command: wall time from spawn to exit, peak RSS from GNU time's %M (in KiB).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const GNU_TIME = '/usr/bin/time';

/** Peak RSS is measured in bytes and shown in MiB. */
export const MiB = 2 ** 20;

export interface Timed {
  ms: number;
  /** Peak resident set of the command, bytes; null without GNU time. */
  maxRss: number | null;
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Series {
  /** Every timed run (the warm-up excluded). */
  runs: Timed[];
  medianMs: number;
  medianRss: number | null;
  maxRss: number | null;
}

let gnuTime: boolean | null = null;

/** Whether GNU time works here; installs it with apt-get when missing and we are root. */
export function haveGnuTime(log: (m: string) => void): boolean {
  if (gnuTime !== null) return gnuTime;
  const works = () => existsSync(GNU_TIME) && spawnSync(GNU_TIME, ['-f', '%M', 'true'], { stdio: 'ignore' }).status === 0;
  if (!works() && process.getuid?.() === 0) {
    log('GNU time missing: apt-get install -y time');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['install', '-y', 'time'], { env, stdio: ['ignore', 2, 2] });
  }
  gnuTime = works();
  if (!gnuTime) log('GNU time unavailable: peak RSS will not be measured');
  return gnuTime;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The q-quantile (0..1) by nearest rank. */
export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

export async function timeCommand(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<Timed> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ldu-bench-time-'));
  const rssFile = path.join(dir, 'rss');
  const [file, argv] = gnuTime ? [GNU_TIME, ['-f', '%M', '-o', rssFile, cmd, ...args]] : [cmd, args];
  try {
    const start = performance.now();
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(file, argv, { env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
    });
    const ms = performance.now() - start;
    let maxRss: number | null = null;
    if (gnuTime) {
      // GNU time writes "Command exited with non-zero status N" before the format on failure.
      const lines = (await readFile(rssFile, 'utf8').catch(() => '')).trim().split('\n');
      const kib = Number(lines[lines.length - 1]);
      if (Number.isFinite(kib) && kib > 0) maxRss = kib * 1024;
    }
    return { ms, maxRss, ...result };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Runs the command once to warm the page cache (and the command's own caches), then `n` times,
 * timed. Every run must exit 0 (`check` may reject its output too).
 */
export async function series(
  label: string,
  n: number,
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; log: (m: string) => void; check?: (t: Timed) => void },
): Promise<Series> {
  const [s] = await interleaved([{ label, cmd, args, env: opts.env, check: opts.check }], n, opts.log);
  return s!;
}

export interface Spec {
  label: string;
  cmd: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  check?: (t: Timed) => void;
}

/**
 * Like `series` for several commands at once, taken in turn: one warm-up each, then `n` rounds
 * of each command once. Compared run by run (`pairedRatio`), the figures share whatever the
 * machine was doing at that moment, which a series of one command then a series of the other
 * would not: on a shared machine the background drifts over minutes.
 */
export async function interleaved(specs: Spec[], n: number, log: (m: string) => void): Promise<Series[]> {
  const runs: Timed[][] = specs.map(() => []);
  for (let i = 0; i <= n; i++) {
    for (const [k, s] of specs.entries()) {
      const t = await timeCommand(s.cmd, s.args, { env: s.env });
      if (t.code !== 0) throw new Error(`${s.label}: ${s.cmd} ${s.args.join(' ')} exited ${t.code}: ${t.stderr.trim().slice(-2000)}`);
      s.check?.(t);
      const rss = t.maxRss === null ? '' : `, peak RSS ${(t.maxRss / 2 ** 20).toFixed(1)} MiB`;
      log(`${s.label}: ${i === 0 ? 'warm-up' : `run ${i}/${n}`} ${(t.ms / 1000).toFixed(3)} s${rss}`);
      if (i > 0) runs[k]!.push(t);
    }
  }
  return runs.map((r) => {
    const rss = r.map((x) => x.maxRss).filter((x): x is number => x !== null);
    return {
      runs: r,
      medianMs: median(r.map((x) => x.ms)),
      medianRss: rss.length === r.length ? median(rss) : null,
      maxRss: rss.length === r.length ? Math.max(...rss) : null,
    };
  });
}

/** a's time over b's, round by round (series from one `interleaved` call). */
export function roundRatios(a: Series, b: Series): number[] {
  return a.runs.map((r, i) => r.ms / b.runs[i]!.ms);
}

/** The median of a's time over b's, round by round (series from one `interleaved` call). */
export function pairedRatio(a: Series, b: Series): number {
  return median(roundRatios(a, b));
}

/** The median absolute deviation from the median: how far a typical sample strays. */
export function mad(xs: number[]): number {
  const m = median(xs);
  return median(xs.map((x) => Math.abs(x - m)));
}
