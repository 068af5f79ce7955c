// `npm run dashboards`: writes dashboards/*.json from these sources. The JSON is committed; a unit
// test (test/unit/dashboards.test.ts) fails when it differs from what this writes.
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DASHBOARDS, dashboardText } from './index.js';

/** dashboards/ in the repository (this file runs as dist/dashboards/src/generate.js). */
export const DASHBOARDS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'dashboards');

async function main(): Promise<void> {
  for (const [file, make] of Object.entries(DASHBOARDS)) {
    const target = path.join(DASHBOARDS_DIR, file);
    await writeFile(target, dashboardText(make()));
    process.stdout.write(`wrote ${path.relative(process.cwd(), target)}\n`);
  }
}

await main();
