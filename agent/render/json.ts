// `--report --format json`: the report object of ../shared/contract.md, as is.
import type { Report } from '../model/report.js';

export function renderJson(report: Report): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
