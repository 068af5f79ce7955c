// One line per event, logfmt, to stderr: journald keeps each as one entry.
export type Level = 'debug' | 'info' | 'warn' | 'error';

const ORDER: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };
let threshold: Level = 'info';

export function setLogLevel(level: Level): void {
  threshold = level;
}

function quote(v: unknown): string {
  const s = v instanceof Error ? v.message : String(v);
  return /^[\w./:@+-]+$/.test(s) ? s : JSON.stringify(s);
}

export function formatLogfmt(level: Level, msg: string, fields: Record<string, unknown> = {}, now = new Date()): string {
  const parts = [`ts=${now.toISOString()}`, `level=${level}`, `msg=${quote(msg)}`];
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) parts.push(`${k}=${quote(v)}`);
  return parts.join(' ');
}

export function log(level: Level, msg: string, fields?: Record<string, unknown>): void {
  if (ORDER[level] < ORDER[threshold]) return;
  process.stderr.write(`${formatLogfmt(level, msg, fields)}\n`);
}
