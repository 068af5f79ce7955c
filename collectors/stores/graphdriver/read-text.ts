// The daemon's metadata files are small texts, many of them optional.
import { promises as fsp } from 'node:fs';

/** A file's text, or null when it does not exist (a normal state for optional metadata). */
export async function readTextOrNull(path: string): Promise<string | null> {
  try {
    return await fsp.readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}
