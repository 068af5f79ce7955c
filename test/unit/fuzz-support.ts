// What the fuzz tests (fuzz-*.test.ts) share: one fixed seed, the per-parser count of inputs and
// time, each call timed against a bound, the contracts (never throws; or throws only an Error that
// names the problem), the mutations of real files, and the recorded docker root's small files.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import tar from 'tar-stream';
import type { Problem } from '../../collectors/lib/facts.js';

/** Fixed, so a failure reproduces; FUZZ_SEED overrides it to explore further. */
export const SEED = Number(process.env.FUZZ_SEED ?? 20261214);
/** FUZZ_RUNS multiplies every numRuns (1 in `npm test`, where the whole suite stays near 10 s). */
const SCALE = Number(process.env.FUZZ_RUNS ?? 1);
/**
 * What one input may cost one parser. A machine shared with builds can stall any call (a GC, a
 * descheduled thread), so a parser fails on a call over 5 times the bound, or on more than
 * SLOW_CALLS calls over it; a parser that really is slow on an input is slow every time.
 */
export const BOUND_MS = 200;
const SLOW_CALLS = 3;
/** meta.db (512 KiB) read bucket by bucket after a broken page is quadratic by design (bolt-tree.ts). */
const SLOW_MS: Record<string, number> = { parseMetaDb: 500 };

export const runs = (n: number): { seed: number; numRuns: number } => ({ seed: SEED, numRuns: Math.max(1, Math.round(n * SCALE)) });

const tally = new Map<string, { inputs: number; ms: number; threw: number; worst: number; slow: number }>();

/** Calls `fn` once, counted and timed under `name`; a call over BOUND_MS fails the property. */
export function timed<T>(name: string, fn: () => T): T {
  const t = tally.get(name) ?? { inputs: 0, ms: 0, threw: 0, worst: 0, slow: 0 };
  tally.set(name, t);
  t.inputs++;
  const start = performance.now();
  try {
    return fn();
  } catch (e) {
    t.threw++;
    throw e;
  } finally {
    const ms = performance.now() - start;
    t.ms += ms;
    t.worst = Math.max(t.worst, ms);
    const bound = SLOW_MS[name] ?? BOUND_MS;
    if (ms >= bound) t.slow++;
    assert.ok(ms < 5 * bound && t.slow <= SLOW_CALLS, `${name} took ${ms.toFixed(1)} ms on one input (bound ${bound} ms; ${t.slow} calls over it)`);
  }
}

/** The contract of a parser whose caller catches: an Error naming what is wrong, not an engine fault. */
export function assertNamedError(name: string, e: unknown): void {
  assert.ok(e instanceof Error, `${name} threw a non-Error: ${String(e)}`);
  assert.ok(e.message.trim().length > 0, `${name} threw an Error without a message`);
  // A TypeError or RangeError is the engine's (a property of null, a read past a Buffer's end):
  // the parser did not check, and the message says nothing of the file.
  assert.ok(!(e instanceof TypeError) && !(e instanceof RangeError), `${name} threw ${e.name}: ${e.message}`);
}

/** `fn` may throw, but only a named Error; returns its result or null. */
export function mayThrow<T>(name: string, fn: () => T): T | null {
  try {
    return timed(name, fn);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    assertNamedError(name, e);
    return null;
  }
}

/** `fn` must not throw at all. */
export function mustNotThrow<T>(name: string, fn: () => T): T {
  try {
    return timed(name, fn);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    assert.fail(`${name} threw, where it must not: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  }
}

/** Every problem says where and what. */
export function assertNamedProblems(name: string, problems: Problem[]): void {
  for (const p of problems) {
    assert.ok(typeof p.message === 'string' && p.message.trim() !== '', `${name}: a problem without a message: ${JSON.stringify(p)}`);
    assert.ok(p.path === null || (typeof p.path === 'string' && p.path !== ''), `${name}: a problem with an empty path`);
  }
}

/** One line per parser: inputs tried, how many threw (a named Error), total and worst time. */
export function printTally(title: string, names: readonly string[]): void {
  const lines = names.map((n) => {
    const t = tally.get(n) ?? { inputs: 0, ms: 0, threw: 0, worst: 0, slow: 0 };
    return `    ${n}: ${t.inputs} inputs (${t.threw} threw a named error), ${t.ms.toFixed(0)} ms, worst ${t.worst.toFixed(1)} ms, ${t.slow} over the bound\n`;
  });
  process.stdout.write(`  fuzz ${title} (seed ${SEED}):\n${lines.join('')}`);
}

// Mutations of a real file. Positions are drawn within `used` bytes (a bbolt file's pages below its
// high-water mark; the rest is zeros nothing reads) so that the damage lands where a parser looks.
export type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'byte'; at: number; value: number }
  | { kind: 'truncate'; length: number }
  | { kind: 'splice'; from: number; to: number; length: number }
  | { kind: 'zero-page'; page: number }
  | { kind: 'copy-page'; from: number; to: number; keepId: boolean }
  | { kind: 'u32'; at: number; value: number }
  | { kind: 'u64'; at: number; value: bigint };

/** Numbers a corrupt field likes to hold: page ids of the file, 0, 1, the top of each width. */
function fieldValues(pages: number): fc.Arbitrary<number> {
  return fc.oneof(fc.nat(Math.max(0, pages + 2)), fc.constantFrom(0, 1, 2, 0xffff, 0x10000, 0x7fffffff, 0xffffffff), fc.nat());
}

export function mutationArb(used: number, pageSize: number, opts: { truncate?: boolean } = {}): fc.Arbitrary<Mutation> {
  const pages = Math.max(1, Math.ceil(used / pageSize));
  const at = fc.nat(used - 1);
  // Page headers and element arrays: where the structure (ids, counts, offsets, sizes) lives.
  const structural = fc.tuple(fc.nat(pages - 1), fc.nat(40)).map(([p, e]) => Math.min(used - 8, p * pageSize + (e === 0 ? 8 : 16 + (e - 1) * 4)));
  const arbs: fc.Arbitrary<Mutation>[] = [
    fc.record({ kind: fc.constant('flip' as const), at, bit: fc.nat(7) }),
    fc.record({ kind: fc.constant('byte' as const), at, value: fc.nat(255) }),
    fc.record({ kind: fc.constant('splice' as const), from: at, to: at, length: fc.nat(pageSize) }),
    fc.record({ kind: fc.constant('zero-page' as const), page: fc.nat(pages - 1) }),
    fc.record({ kind: fc.constant('copy-page' as const), from: fc.nat(pages - 1), to: fc.nat(pages - 1), keepId: fc.boolean() }),
    fc.record({ kind: fc.constant('u32' as const), at: structural, value: fieldValues(pages) }),
    fc.record({ kind: fc.constant('u64' as const), at: structural, value: fieldValues(pages).map(BigInt) }),
  ];
  if (opts.truncate !== false) arbs.push(fc.record({ kind: fc.constant('truncate' as const), length: fc.nat(used + pageSize) }));
  return fc.oneof(...arbs);
}

/** A damaged copy of `buf`. */
export function mutate(buf: Buffer, mutations: readonly Mutation[], pageSize: number): Buffer {
  let out = Buffer.from(buf);
  for (const m of mutations) {
    switch (m.kind) {
      case 'flip':
        if (m.at < out.length) out[m.at] = out[m.at]! ^ (1 << m.bit);
        break;
      case 'byte':
        if (m.at < out.length) out[m.at] = m.value;
        break;
      case 'truncate':
        out = out.subarray(0, Math.min(m.length, out.length));
        break;
      case 'splice':
        if (m.from < out.length && m.to < out.length) out.copy(out, m.to, m.from, Math.min(out.length, m.from + m.length));
        break;
      case 'zero-page':
        out.fill(0, m.page * pageSize, Math.min(out.length, (m.page + 1) * pageSize));
        break;
      case 'copy-page':
        if ((m.to + 1) * pageSize <= out.length && (m.from + 1) * pageSize <= out.length) {
          out.copy(out, m.to * pageSize, m.from * pageSize, (m.from + 1) * pageSize);
          // A stale page as a torn read sees it carries its own id; a misdirected one the other's.
          if (m.keepId) out.writeBigUInt64LE(BigInt(m.to), m.to * pageSize);
        }
        break;
      case 'u32':
        if (m.at + 4 <= out.length) out.writeUInt32LE(m.value >>> 0, m.at);
        break;
      case 'u64':
        if (m.at + 8 <= out.length) out.writeBigUInt64LE(BigInt.asUintN(64, m.value), m.at);
        break;
    }
  }
  return out;
}

export const mutationsArb = (used: number, pageSize: number, opts: { truncate?: boolean } = {}): fc.Arbitrary<Mutation[]> =>
  fc.array(mutationArb(used, pageSize, opts), { minLength: 1, maxLength: 4 });

/** Bytes of JSON text, cut, spliced, or with a byte changed: most still fail JSON.parse, some not. */
export function textMutations(text: string): fc.Arbitrary<string> {
  const buf = Buffer.from(text, 'utf8');
  return mutationsArb(Math.max(1, buf.length), 64).map((ms) => mutate(buf, ms, 64).toString('utf8'));
}

/** The small files of the recorded docker root (test/fixtures/docker-root/root.tar.gz), by path. */
export async function recordedRootFiles(match: (path: string) => boolean): Promise<Map<string, Buffer>> {
  const gz = readFileSync(new URL('../../../test/fixtures/docker-root/root.tar.gz', import.meta.url));
  const out = new Map<string, Buffer>();
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    const name = header.name.replace(/^\.\//, '');
    const chunks: Buffer[] = [];
    const keep = header.type === 'file' && match(name);
    stream.on('data', (c: Buffer) => keep && chunks.push(c));
    stream.on('end', () => {
      if (keep) out.set(name, Buffer.concat(chunks));
      next();
    });
  });
  await new Promise<void>((resolve, reject) => {
    extract.on('finish', resolve);
    extract.on('error', reject);
    Readable.from([gunzipSync(gz)]).pipe(extract);
  });
  return out;
}
