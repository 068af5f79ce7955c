// A running find, wherever it was started (find-spawner.ts starts most), and one started from
// this process: the way when there is no spawner, and the spawner's own way.
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';

/** A running find, wherever it was started. */
export interface FindChild {
  /** Its output; ends when find has exited and every byte is read. */
  stdout: Readable;
  onStderr(cb: (text: string) => void): void;
  /** Once: after stdout ended and the exit is known. */
  onClose(cb: (code: number | null, signal: string | null) => void): void;
  /** It could not be started. */
  onError(cb: (e: Error) => void): void;
  kill(): void;
}

/** find (or any program) started here, LC_ALL=C, its output and stderr piped. */
export function direct(argv: string[]): FindChild {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
  child.stderr.setEncoding('utf8');
  return {
    stdout: child.stdout,
    onStderr: (cb) => child.stderr.on('data', cb),
    onClose: (cb) => child.once('close', (code, signal) => cb(code, signal)),
    onError: (cb) => child.on('error', cb),
    kill: () => void child.kill(),
  };
}
