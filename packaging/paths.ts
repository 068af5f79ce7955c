// Where `npm run package` reads from and writes to.
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is compiled to dist/packaging/paths.js). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** `npm run package` writes here (never into dist/, which `npm run build` empties). */
export const BUILD_DIR = path.join(REPO_ROOT, 'build');
