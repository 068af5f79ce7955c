// Small read helpers shared by the metadata collectors.
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

export function describeError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'EACCES' || err?.code === 'EPERM') return 'permission denied';
  if (err?.code === 'ENOENT') return 'missing';
  if (e instanceof SyntaxError) return `not valid JSON (${e.message})`;
  return err?.message ?? String(e);
}
