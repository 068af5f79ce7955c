// How a problem is named for a person: one short phrase for the usual errno codes.

export function describeError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'EACCES' || err?.code === 'EPERM') return 'permission denied';
  if (err?.code === 'ENOENT') return 'missing';
  if (e instanceof SyntaxError) return `not valid JSON (${e.message})`;
  return err?.message ?? String(e);
}
