// The kubelet's container logs: `<pod-logs>/<namespace>_<pod>_<uid>/<container>/<restart>.log`,
// with the rotated `<restart>.log.<timestamp>` (and their `.gz`) beside them. A container's files
// are found from the CRI's labels on its record; the kubelet keeps one directory per container
// name, so when a pod's container restarted the directory's files are the newest one's.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { ContainerFact, Problem } from '../lib/facts.js';
import { describeError } from '../lib/errors.js';
import { K8S_CONTAINER_NAME, K8S_POD_NAME, K8S_POD_NAMESPACE, K8S_POD_UID } from '../lib/labels.js';
import { sumFiles } from './containers.js';

/** A log file of the kubelet's: `0.log`, `0.log.20261201-101010`, `0.log.20261201-101010.gz`. */
export const isPodLogFile = (name: string): boolean => /^\d+\.log(\.[0-9A-Za-z.-]+)?$/.test(name);

/** The directory (under the pod log root) of a container's logs, when its labels name one. */
export function podLogDir(labels: Record<string, string>): string | null {
  const parts = [labels[K8S_POD_NAMESPACE], labels[K8S_POD_NAME], labels[K8S_POD_UID], labels[K8S_CONTAINER_NAME]];
  if (parts.some((v) => !v)) return null;
  const [ns, pod, uid, name] = parts as string[];
  // Kubernetes' names never hold a slash; a label that does names no directory of the kubelet's.
  if (parts.some((v) => v!.includes('/') || v === '..' || v === '.')) return null;
  return join(`${ns}_${pod}_${uid}`, name!);
}

/** Which container each log directory is for: of several with one directory, the newest. */
export function logOwners(containers: ContainerFact[]): Map<string, string> {
  const newest = new Map<string, ContainerFact>();
  const key = (c: ContainerFact) => `${c.created ?? ''}\0${c.id}`;
  for (const c of containers) {
    if (c.kind === 'sandbox') continue;
    const dir = podLogDir(c.labels);
    if (dir === null) continue;
    const held = newest.get(dir);
    if (!held || key(c) > key(held)) newest.set(dir, c);
  }
  return new Map([...newest].map(([dir, c]) => [c.id, dir]));
}

/** The containers, each with its pod log files (none for those the kubelet keeps none of). */
export async function readPodLogs(root: string, containers: ContainerFact[], problems: Problem[]): Promise<ContainerFact[]> {
  const dirOf = logOwners(containers);
  return Promise.all(
    containers.map(async (c) => {
      const rel = dirOf.get(c.id);
      if (rel === undefined) return c;
      const dir = join(root, rel);
      let names: string[];
      try {
        names = await fsp.readdir(dir);
      } catch (e) {
        // A pod whose logs the kubelet has not written (or has removed) has no directory.
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') problems.push({ path: dir, message: describeError(e) });
        return c;
      }
      const logPaths = names.filter(isPodLogFile).sort().map((n) => join(dir, n));
      const sum = await sumFiles(logPaths, problems);
      return { ...c, logs: { disk: sum.disk, apparent: sum.apparent }, logFiles: sum.files, logPaths };
    }),
  );
}
