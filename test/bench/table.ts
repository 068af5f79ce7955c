// The results table on stdout: one row a check, values in the units people read.
import type { Check } from './checks.js';

export function fmt(v: number | null, unit: string): string {
  if (v === null) return 'n/a';
  if (Number.isInteger(v)) return `${v}${unit ? ` ${unit}` : ''}`;
  const digits = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : Math.abs(v) >= 1 ? 2 : 3;
  return `${v.toFixed(digits)}${unit ? ` ${unit}` : ''}`;
}

export function table(checks: Check[]): string {
  const rows = checks.map((c) => [c.name, fmt(c.value, c.unit), c.target, c.pass === null ? '' : c.pass ? 'PASS' : 'FAIL', c.note ?? '']);
  const head = ['measure', 'value', 'target', '', 'note'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** Each collector's median duration, one column a store; a store without that collector shows n/a. */
export function collectorsTable(byStore: Record<string, Record<string, number>>): string {
  const stores = Object.keys(byStore);
  const names = [...new Set(stores.flatMap((s) => Object.keys(byStore[s]!)))].sort();
  const rows = names.map((n) => [n, ...stores.map((s) => fmt(byStore[s]![n] ?? null, 's'))]);
  const head = ['collector', ...stores];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i > 0 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
