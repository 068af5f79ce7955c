import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContainerFact, Problem } from '../../collectors/lib/facts.js';
import { isPodLogFile, logOwners, podLogDir, readPodLogs } from '../../collectors/sources/pod-logs.js';

const POD = { 'io.kubernetes.pod.namespace': 'shop', 'io.kubernetes.pod.name': 'web', 'io.kubernetes.pod.uid': 'u-1' };
const cri = (id: string, labels: Record<string, string>, over: Partial<ContainerFact> = {}): ContainerFact => ({
  id, name: id, imageId: '', state: 'unknown', volumes: [], labels, logs: { disk: 0, apparent: 0 }, logFiles: 0, logPaths: [], namespace: 'k8s.io', ...over,
});

describe('pod logs: the kubelet\'s <pod-logs>/<ns>_<pod>_<uid>/<container>/', () => {
  it('names a container\'s directory from the CRI\'s labels, and none when one is missing or could leave the root', () => {
    assert.equal(podLogDir({ ...POD, 'io.kubernetes.container.name': 'app' }), 'shop_web_u-1/app');
    assert.equal(podLogDir(POD), null, 'no container name');
    assert.equal(podLogDir({ ...POD, 'io.kubernetes.pod.uid': '' , 'io.kubernetes.container.name': 'app' }), null);
    assert.equal(podLogDir({ ...POD, 'io.kubernetes.container.name': '../../etc' }), null);
    assert.equal(podLogDir({ ...POD, 'io.kubernetes.container.name': '..' }), null);
  });

  it('knows the kubelet\'s files: the current log, rotated ones and their .gz, nothing else', () => {
    for (const n of ['0.log', '12.log', '0.log.20261201-101010', '0.log.20261201-101010.gz']) assert.ok(isPodLogFile(n), n);
    for (const n of ['app.log', 'x0.log', '.0.log', 'log', '0.logx']) assert.ok(!isPodLogFile(n), n);
  });

  it('gives a directory to the newest container of that name (restarts), never to a sandbox', () => {
    const app = { ...POD, 'io.kubernetes.container.name': 'app' };
    const owners = logOwners([
      cri('k8s.io/old', app, { created: '2026-12-01T09:00:00Z' }),
      cri('k8s.io/new', app, { created: '2026-12-01T10:00:00Z' }),
      cri('k8s.io/sb', { ...app, 'io.cri-containerd.kind': 'sandbox' }, { kind: 'sandbox', created: '2026-12-01T11:00:00Z' }),
    ]);
    assert.deepEqual([...owners], [['k8s.io/new', 'shop_web_u-1/app']]);
  });

  it('sums each container\'s files on both bases; a missing directory is no problem, a file in the way is', async () => {
    const root = await mkdtemp(join(tmpdir(), 'ldu-podlogs-'));
    try {
      const dir = join(root, 'shop_web_u-1', 'app');
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, '0.log'), 'x'.repeat(5000));
      await writeFile(join(dir, '0.log.20261201-101010'), 'y'.repeat(100));
      await writeFile(join(dir, 'not-a-log'), 'z'.repeat(9000));
      await writeFile(join(root, 'shop_web_u-1', 'side'), 'a file where a directory should be');
      const problems: Problem[] = [];
      const [app, gone, side] = await readPodLogs(root, [
        cri('k8s.io/app', { ...POD, 'io.kubernetes.container.name': 'app' }),
        cri('k8s.io/gone', { ...POD, 'io.kubernetes.container.name': 'gone' }),
        cri('k8s.io/side', { ...POD, 'io.kubernetes.container.name': 'side' }),
      ], problems);
      assert.deepEqual([app!.logs.apparent, app!.logFiles, app!.logPaths], [5100, 2, [join(dir, '0.log'), join(dir, '0.log.20261201-101010')]]);
      const blocks = await Promise.all(app!.logPaths.map(async (f) => (await lstat(f)).blocks * 512));
      assert.equal(app!.logs.disk, blocks[0]! + blocks[1]!, 'st_blocks*512 of each file');
      assert.deepEqual([gone!.logs, gone!.logFiles], [{ disk: 0, apparent: 0 }, 0]);
      assert.deepEqual([side!.logs, side!.logFiles], [{ disk: 0, apparent: 0 }, 0]);
      assert.equal(problems.length, 1);
      assert.match(problems[0]!.message, /not a directory|ENOTDIR/i);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
