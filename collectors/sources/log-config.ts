// Logging configurations: each container's from its `hostconfig.json` (beside config.v2.json),
// and the daemon's default from daemon.json's `log-driver` and `log-opts`. Docker fills a
// container's LogConfig from the daemon's default when it creates it, and never again: the
// container's record is what its logger runs with, and daemon.json only tells where a limit
// came from.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { configIsAboutRoot, readDaemonConfig } from '../host/daemon-config.js';
import type { HostPaths } from '../host/paths.js';
import { describeError } from '../lib/errors.js';
import type { Problem } from '../lib/facts.js';
import type { LogConfigFact } from '../lib/log-config.js';

const DECIMAL: Record<string, number> = { k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 };
/** What Go's strconv.ParseFloat takes in decimal (hexadecimal floats and inf/nan left out). */
const GO_DECIMAL_FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * A size as the json-file and local log drivers read `max-size`: go-units' FromHumanSize, whose
 * suffixes are decimal (`10m` is 10,000,000 bytes, `1g` 10^9, `500k` 500,000); `b`, `kb`, `kib`
 * spellings and one space before the suffix are taken, a bare number is bytes, a fraction is
 * truncated after the multiplication. Null when go-units would refuse it.
 */
export function parseDockerSize(text: string): number | null {
  // go-units splits after the last digit, dot or space.
  let sep = -1;
  for (let i = text.length - 1; i >= 0 && sep === -1; i--) if (/[0-9. ]/.test(text[i]!)) sep = i;
  if (sep === -1) return null;
  const num = text[sep] === ' ' ? text.slice(0, sep) : text.slice(0, sep + 1);
  const suffix = text.slice(sep + 1);
  if (!GO_DECIMAL_FLOAT.test(num)) return null;
  const size = Number(num);
  if (size < 0 || !Number.isFinite(size) || suffix.length > 3) return null;
  const sfx = suffix.toLowerCase();
  if (sfx === '' || sfx === 'b') return Math.trunc(size);
  const mul = DECIMAL[sfx[0]!];
  if (mul === undefined || (sfx.length === 2 && sfx[1] !== 'b') || (sfx.length === 3 && sfx.slice(1) !== 'ib')) return null;
  return Math.trunc(size * mul);
}

/** `max-file` as Go's strconv.Atoi reads it; null when it would refuse it. */
function parseCount(text: string): number | null {
  return /^[+-]?\d+$/.test(text) ? Number(text) : null;
}

/** A driver and its options (strings, as Docker stores them) as a fact; throws on a size or count Docker would refuse. */
function logConfigFact(driver: unknown, opts: unknown): LogConfigFact {
  const o = opts !== null && typeof opts === 'object' && !Array.isArray(opts) ? (opts as Record<string, unknown>) : {};
  const read = (key: string, parse: (s: string) => number | null): number | null => {
    const v = o[key];
    if (v === undefined) return null;
    const n = typeof v === 'string' ? parse(v) : null;
    if (n === null) throw new Error(`invalid ${key} ${JSON.stringify(v)}`);
    return n;
  };
  return { driver: typeof driver === 'string' ? driver : '', maxSize: read('max-size', parseDockerSize), maxFile: read('max-file', parseCount) };
}

/** `hostconfig.json`'s `LogConfig: { Type, Config: { "max-size", "max-file", … } }`. Pure. */
export function parseHostConfigLog(text: string): LogConfigFact {
  const doc = JSON.parse(text) as { LogConfig?: { Type?: unknown; Config?: unknown } | null };
  return logConfigFact(doc?.LogConfig?.Type, doc?.LogConfig?.Config);
}

/** daemon.json's `log-driver` ('' when unset: json-file) and `log-opts`. Pure. */
export function daemonLogConfig(config: Record<string, unknown>): LogConfigFact {
  return logConfigFact(config['log-driver'], config['log-opts']);
}

/** The container's log configuration; undefined when its hostconfig.json is gone or unreadable (named). */
export async function readContainerLog(dir: string, problems: Problem[]): Promise<LogConfigFact | undefined> {
  const file = join(dir, 'hostconfig.json');
  try {
    return parseHostConfigLog(await fsp.readFile(file, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') problems.push({ path: file, message: `log configuration unknown: ${describeError(e)}` });
    return undefined;
  }
}

/** The daemon's default log configuration, when daemon.json is there and speaks of this root. */
export async function readDaemonLog(host: HostPaths, dockerRoot: string, problems: Problem[]): Promise<LogConfigFact | null> {
  const daemon = await readDaemonConfig(host);
  if (!daemon || !(await configIsAboutRoot(daemon, dockerRoot, host))) return null;
  try {
    return daemonLogConfig(daemon.config);
  } catch (e) {
    problems.push({ path: daemon.path, message: `log-opts: ${describeError(e)}` });
    return null;
  }
}
