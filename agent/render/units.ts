// Byte formatting and column layout for the text report. Node built-ins only.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'] as const;

/**
 * IEC units: `0 B`, `512 B`, `1.0 KiB`, `10.0 MiB`, `1.23 GiB`. KiB and MiB get one decimal; GiB and
 * up get two, since a tenth of a GiB (~100 MiB) is too coarse to tell two disk figures apart.
 */
export function formatIEC(bytes: number): string {
  if (!Number.isFinite(bytes)) return '?';
  if (bytes < 0) return `-${formatIEC(-bytes)}`;
  const whole = Math.round(bytes);
  if (whole < 1024) return `${whole} B`;
  for (let exp = 1; ; exp++) {
    const unit = UNITS[exp] ?? 'EiB';
    const text = (whole / 1024 ** exp).toFixed(exp >= 3 ? 2 : 1);
    // Rounding can reach 1024 (1048575 B is "1024.0 KiB"); that belongs to the next unit.
    if (Number(text) < 1024 || exp >= UNITS.length - 1) return `${text} ${unit}`;
  }
}

export interface Column {
  header: string;
  /** 'right' for figures, so digits and units line up; names stay 'left' (the default). */
  align?: 'left' | 'right';
  /** May be cut short with '…' when the table would be wider than the width. */
  truncate?: boolean;
}

const GUTTER = '  ';
const MIN_TRUNCATED = 8;

/**
 * Lays rows out under a header row, columns two spaces apart, and returns the lines. Truncatable
 * columns give up characters, widest first, until the table fits `width`. A left-aligned last
 * column is not padded, so no line ends in spaces.
 */
export function table(rows: readonly (readonly string[])[], columns: readonly Column[], width = 100): string[] {
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => (r[i] ?? '').length)));
  const total = () => widths.reduce((a, b) => a + b, 0) + GUTTER.length * (columns.length - 1);
  while (total() > width) {
    let widest = -1;
    columns.forEach((c, i) => {
      const w = widths[i] ?? 0;
      if (c.truncate && w > Math.max(MIN_TRUNCATED, c.header.length) && (widest < 0 || w > (widths[widest] ?? 0))) {
        widest = i;
      }
    });
    if (widest < 0) break; // nothing left to shrink: let the line run long rather than lose figures
    widths[widest] = (widths[widest] ?? 0) - 1;
  }
  const line = (cells: readonly string[]) =>
    columns
      .map((c, i) => {
        const w = widths[i] ?? 0;
        const cell = fit(cells[i] ?? '', w);
        if (c.align === 'right') return cell.padStart(w);
        return i === columns.length - 1 ? cell : cell.padEnd(w);
      })
      .join(GUTTER);
  return [line(columns.map((c) => c.header)), ...rows.map(line)];
}

function fit(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, Math.max(0, width - 1))}…` : text;
}
