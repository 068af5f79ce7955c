// Two reports compared leaf by leaf (the layerdu image's against the host binary's, the single
// executable's against the npm build's), and what differs between runs of the same scan.
import type { Report } from '../../agent/model/report.js';

/** Leaf paths of a JSON value, with their values as JSON text (masked ones, undefined, left out). */
export function leaves(v: unknown, at = '', out = new Map<string, string>()): Map<string, string> {
  if (v === undefined) return out;
  if (v !== null && typeof v === 'object') {
    const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x] as const) : Object.entries(v);
    if (entries.length === 0) out.set(at, JSON.stringify(v));
    for (const [k, x] of entries) leaves(x, at ? `${at}.${k}` : k, out);
  } else out.set(at, JSON.stringify(v));
  return out;
}

/** Every leaf where the two differ, `path: a ≠ b`. */
export function differences(a: unknown, b: unknown): string[] {
  const [la, lb] = [leaves(a), leaves(b)];
  const keys = [...new Set([...la.keys(), ...lb.keys()])].sort();
  return keys.filter((k) => la.get(k) !== lb.get(k)).map((k) => `${k}: ${la.get(k)} ≠ ${lb.get(k)}`);
}

/** A report without what two runs of one scan never share: `scan` (clocks) and the filesystem's free space. */
export function withoutRunNoise(r: Report): unknown {
  const { scan: _scan, filesystem, ...rest } = structuredClone(r);
  return { ...rest, filesystem: filesystem && { ...filesystem, avail: undefined } };
}
