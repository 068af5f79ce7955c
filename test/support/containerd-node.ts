// A private containerd alone, as a Kubernetes node runs it (no dockerd): the trixie containerd 1.7
// and the system's Debian 12 runc (containerd-store.ts's startContainerd), CRI disabled (the test
// makes what the CRI would leave with ctr). One mkdtemp('/tmp/ldk-') directory holds it all:
//   <base>/containerd/config.toml  version 2; root, state, grpc.address below; CRI disabled
//   <base>/containerd/root/        the containerd root (a real node: /var/lib/containerd)
//   <base>/containerd/state/       its state (a real node: /run/containerd)
//   <base>/containerd/containerd.sock
//   <base>/tmp/                    TMPDIR of containerd and ctr
// Tasks get their cgroups under /ldk-<suffix>/ (ctr run --cgroup, cgroupPath()) instead of ctr's
// default /<namespace>/, so that stop() can remove what they leave. stop() (also reached through
// stopAllNodes in the root hook) kills every task in every namespace, deletes the tasks, stops
// containerd and its shims, unmounts what is left under <base>, removes the cgroups and <base>.
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rmdir } from 'node:fs/promises';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cleanupSteps } from './cleanup.js';
import { containerdBinaries, startContainerd, type StartedContainerd } from './containerd-store.js';
import { debug } from './harness-debug.js';

/** Kubernetes' containerd namespace (the CRI plugin's). */
export const K8S_NAMESPACE = 'k8s.io';

export interface ContainerdNode extends StartedContainerd {
  /** The one temporary directory. */
  base: string;
  /** The cgroup path to give `ctr run --cgroup` for a task. */
  cgroupPath(id: string): string;
}

export interface ContainerdNodeOptions {
  /** How long to wait for containerd. Default 90 s. */
  startTimeoutMs?: number;
  /** ctr's namespace when a call names none. Default k8s.io. */
  namespace?: string;
}

const live = new Set<ContainerdNode>();

/** Every node started and not yet stopped (the root hook stops them all). */
export async function stopAllNodes(): Promise<void> {
  const steps = cleanupSteps();
  for (const n of [...live]) await steps.attempt(() => n.stop());
  steps.done();
}

/** The hierarchies of the cgroup filesystems mounted here (v1: one per controller; v2: one). */
function cgroupMounts(): string[] {
  try {
    return readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' '))
      .filter((f) => ['cgroup', 'cgroup2'].includes(f[f.indexOf('-') + 1] ?? ''))
      .map((f) => f[4]!);
  } catch {
    return [];
  }
}

/** `ctr tasks ls -q` of a namespace. */
async function taskIds(c: StartedContainerd, ns: string): Promise<string[]> {
  return (await c.ctr(['tasks', 'ls', '-q'], { namespace: ns })).split('\n').map((s) => s.trim()).filter(Boolean);
}

/** Kills and deletes every task of every namespace (the containers and their snapshots stay). */
async function endTasks(c: StartedContainerd): Promise<void> {
  const namespaces = (await c.ctr(['namespaces', 'ls', '-q'], { namespace: null })).split('\n').map((s) => s.trim()).filter(Boolean);
  for (const ns of namespaces) {
    for (const id of await taskIds(c, ns)) {
      await c.ctr(['tasks', 'kill', '-s', 'SIGKILL', id], { namespace: ns }).catch(() => undefined);
    }
    for (let i = 0; i < 50 && (await taskIds(c, ns)).length > 0; i++) {
      for (const id of await taskIds(c, ns)) await c.ctr(['tasks', 'delete', id], { namespace: ns }).catch(() => undefined);
      await sleep(100);
    }
  }
}

/** Starts containerd alone. Stop with stop() (or the root hook's stopAllNodes). */
export async function startContainerdNode(opts: ContainerdNodeOptions = {}): Promise<ContainerdNode> {
  await containerdBinaries();
  const base = await mkdtemp('/tmp/ldk-');
  const tmp = path.join(base, 'tmp');
  await mkdir(tmp);
  const cgroupParent = `/ldk-${path.basename(base).slice('ldk-'.length)}`;
  const c = await startContainerd(path.join(base, 'containerd'), {
    base,
    created: true,
    namespace: opts.namespace ?? K8S_NAMESPACE,
    timeoutMs: opts.startTimeoutMs ?? 90_000,
    tmp,
  });
  let stopping: Promise<void> | null = null;
  const node: ContainerdNode = {
    ...c,
    base,
    cgroupPath: (id) => `${cgroupParent}/${id}`,
    stop() {
      stopping ??= (async () => {
        try {
          await endTasks(c);
        } catch (e) {
          debug(`${base}: ending the tasks: ${(e as Error).message}`);
        }
        try {
          await c.stop();
        } finally {
          // runc removes a deleted task's cgroup, not the parent we named
          for (const mp of cgroupMounts()) await rmdir(path.join(mp, cgroupParent)).catch(() => undefined);
          live.delete(node);
        }
      })();
      return stopping;
    },
  };
  live.add(node);
  debug(`${base}: containerd alone up in ${c.seconds} s`);
  return node;
}
