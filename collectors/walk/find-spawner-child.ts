// The spawner's side (find-spawner.ts): in a walker process that walks nothing, each request
// starts a find whose output is the socket end that came with it, and reports its stderr and
// exit; the socket end is let go here at once, so find alone holds it and its exit ends the output.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import type { SpawnReply, SpawnRequest } from './find-spawner.js';

const running = new Map<number, ChildProcess>();

export function isSpawnRequest(m: unknown): m is SpawnRequest {
  return typeof m === 'object' && m !== null && ('spawn' in m || 'kill' in m);
}

const reply = (m: SpawnReply) => void (process.connected && process.send!(m));

export function handleSpawnRequest(m: SpawnRequest, out: Socket | undefined): void {
  if ('kill' in m) {
    running.get(m.kill)?.kill();
    return;
  }
  const id = m.spawn;
  if (!out) return reply({ id, error: 'no socket came with the request' });
  let child: ChildProcess;
  try {
    child = spawn(m.argv[0]!, m.argv.slice(1), { stdio: ['ignore', out, 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
  } catch (e) {
    out.destroy();
    return reply({ id, error: (e as Error).message });
  }
  // find has its own copy of the socket now.
  out.destroy();
  running.set(id, child);
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (text: string) => reply({ id, stderr: text }));
  let failed = false;
  child.on('error', (e) => {
    failed = true;
    running.delete(id);
    reply({ id, error: e.message });
  });
  child.on('close', (code, signal) => {
    running.delete(id);
    if (!failed) reply({ id, exit: code, signal });
  });
}
