// Reading what a docker root may or may not have (a directory, a small file) without a try at
// every call.
import { readFile, readdir } from 'node:fs/promises';

/** Lists a directory, or [] when it does not exist. */
export async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

/** Reads a small text file, trimmed; null when missing. */
export async function readText(file: string): Promise<string | null> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    return null;
  }
}
