// The dockerd harness' own trace, on stderr when LDU_TEST_DEBUG is set: what it stopped, killed
// and unmounted, for a test run that hangs or leaves something behind.
const DEBUG = !!process.env.LDU_TEST_DEBUG;
export function debug(msg: string): void {
  if (DEBUG) process.stderr.write(`[dockerd-harness ${new Date().toISOString()}] ${msg}\n`);
}
