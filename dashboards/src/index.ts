// Every dashboard, by the file name it is committed under in dashboards/.
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { fleet } from './fleet.js';
import { imageDrillDown } from './image.js';
import { overview } from './overview.js';

export const DASHBOARDS: Record<string, () => Dashboard> = {
  'layerdu-overview.json': overview,
  'layerdu-image.json': imageDrillDown,
  'layerdu-fleet.json': fleet,
};

/** The text of a dashboard file: two-space JSON and a final newline. */
export function dashboardText(d: Dashboard): string {
  return `${JSON.stringify(d, null, 2)}\n`;
}
