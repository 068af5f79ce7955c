// Progress goes to stderr, stamped with the time, so that stdout holds only the results.
export function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}
