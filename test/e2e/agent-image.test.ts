// The layerdu container image (test/support/agent-image.ts: this machine's Node, GNU find and
// stdbuf, the built agent, no registry) run on a private daemon as systemd/kubernetes/daemonset.yaml
// runs it: uid 0 with every capability dropped but DAC_READ_SEARCH, no privilege escalation, a
// read-only root filesystem, the docker root and the socket mounted read-only at their paths under
// /host/root, the pod's own /proc and /sys. Its JSON report must give the host binary's figures.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Report } from '../../agent/model/report.js';
import { AGENT_ENTRYPOINT, IMAGE_APP, IMAGE_NODE, IMAGE_PATH, importAgentImage } from '../support/agent-image.js';
import { DOCKER_CLI, findExecutable, makeBaseImage, startDaemon, type Daemon } from '../support/dockerd.js';
import { buildClassic, settle } from '../support/fixture-host.js';
import { reportJson } from '../support/fixture-report.js';
import { REPO_ROOT } from '../support/oracles.js';
import { differences, leaves } from '../support/report-diff.js';

const MiB = 1024 * 1024;
const TAG = 'layerdu:test';

interface PodContainer {
  args: string[];
  securityContext: {
    runAsUser: number;
    runAsGroup: number;
    allowPrivilegeEscalation: boolean;
    readOnlyRootFilesystem: boolean;
    capabilities: { drop: string[]; add: string[] };
  };
  resources: { limits: { cpu: string; memory: string } };
  volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
}

/** The DaemonSet's container and its volumes' host paths, by volume name. */
function daemonSet(): { container: PodContainer; hostPaths: Map<string, string> } {
  const ds = parseYaml(readFileSync(path.join(REPO_ROOT, 'systemd', 'kubernetes', 'daemonset.yaml'), 'utf8')) as {
    spec: { template: { spec: { containers: PodContainer[]; volumes: Array<{ name: string; hostPath: { path: string } }> } } };
  };
  const pod = ds.spec.template.spec;
  return { container: pod.containers[0]!, hostPaths: new Map(pod.volumes.map((v) => [v.name, v.hostPath.path])) };
}

const POD = daemonSet();
/** Where the pod finds this daemon's root and socket: the DaemonSet's mountPaths for the host's. */
const mountPath = (hostPath: string): string => {
  const m = POD.container.volumeMounts.find((v) => POD.hostPaths.get(v.name) === hostPath);
  if (!m) throw new Error(`daemonset.yaml mounts no ${hostPath}`);
  return m.mountPath;
};
const IN_ROOT = mountPath('/var/lib/docker');
const IN_SOCKET = mountPath('/var/run/docker.sock');
/** The DaemonSet's args; --docker-root is left to its default there, rootfs/var/lib/docker. */
const AGENT_ARGS = POD.container.args;
const REPORT_ARGS = [...AGENT_ARGS.filter((a) => !a.startsWith('--web.listen-address')), '--report', '--format', 'json'];

/** `docker run` flags for the DaemonSet's pod spec: its securityContext, limits and the two mounts this daemon has. */
function podFlags(d: Daemon): string[] {
  const sc = POD.container.securityContext;
  const { cpu, memory } = POD.container.resources.limits;
  assert.match(memory, /^\d+Mi$/);
  // The DaemonSet's other mounts (/var/lib/containerd, /etc/docker, /var/log/pods) are the
  // host's, not this daemon's: its containerd lives under its root, and it has no daemon.json.
  const theirs = new Map([[IN_ROOT, d.root], [IN_SOCKET, d.socket]]);
  const mounts = POD.container.volumeMounts.filter((m) => theirs.has(m.mountPath));
  assert.ok(mounts.every((m) => m.readOnly === true), 'read-only mounts');
  return [
    '--network', 'none', // this daemon has no bridge; the report needs none
    '--user', `${sc.runAsUser}:${sc.runAsGroup}`,
    ...sc.capabilities.drop.flatMap((c) => ['--cap-drop', c]),
    ...sc.capabilities.add.flatMap((c) => ['--cap-add', c]),
    ...(sc.allowPrivilegeEscalation ? [] : ['--security-opt', 'no-new-privileges']),
    ...(sc.readOnlyRootFilesystem ? ['--read-only'] : []),
    // seccomp RuntimeDefault: Docker's default profile, as given
    '--memory', memory.replace(/Mi$/, 'm'), '--cpus', cpu,
    // Its stdout (the report) and its log would otherwise land in a json-file log under the root,
    // growing between the two reports compared.
    '--log-driver', 'none',
    ...mounts.flatMap((m) => ['-v', `${theirs.get(m.mountPath)}:${m.mountPath}:ro`]),
  ];
}

/**
 * Runs the agent with `args` in the running container `name` under one `docker exec`, which
 * prints the agent's output and then stays until `meanwhile` (run once the output is in) is done.
 */
async function duringExec<T>(d: Daemon, name: string, args: string[], meanwhile: () => Promise<{ json: T }>): Promise<{ stdout: string; host: T }> {
  const script = [
    `const { spawnSync } = await import('node:child_process');`,
    `const r = spawnSync(${JSON.stringify(AGENT_ENTRYPOINT[0])}, ${JSON.stringify([...AGENT_ENTRYPOINT.slice(1), ...args])}, { encoding: 'utf8', maxBuffer: 1 << 28 });`,
    `process.stdout.write(JSON.stringify({ code: r.status, stdout: r.stdout, stderr: r.stderr }) + '\\n');`,
    `process.stdin.resume(); process.stdin.on('end', () => process.exit(0));`,
  ].join(' ');
  const child = spawn(DOCKER_CLI, ['exec', '-i', name, IMAGE_NODE, '--input-type=module', '-e', script], {
    env: { ...process.env, DOCKER_HOST: d.host },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  try {
    let out = '';
    for await (const chunk of child.stdout) {
      out += String(chunk);
      if (out.endsWith('\n')) break;
    }
    const r = JSON.parse(out) as { code: number | null; stdout: string; stderr: string };
    assert.equal(r.code, 0, `the report in the pod exited ${r.code}: ${r.stderr}`);
    const host = (await meanwhile()).json;
    return { stdout: r.stdout, host };
  } finally {
    child.stdin.end();
    const code = await exited;
    assert.equal(code, 0, 'docker exec');
  }
}

const OPAQUE_IMAGE = 'opaque:latest';

describe('the layerdu image, run as the DaemonSet runs it', function () {
  this.timeout(600_000);
  let d: Daemon | null = null;
  let imageId = '';

  before(async function () {
    if (process.getuid?.() !== 0) this.skip();
    for (const tool of ['dockerd', 'busybox', 'ldd', 'tar', 'npm', 'find', 'stdbuf']) if (!findExecutable(tool)) this.skip();
    d = await startDaemon();
    await makeBaseImage(d, 'base:latest');
    // Two images sharing base and a 1 MiB layer (the classic builder's cache); shared-b removes
    // the shared file again: 1 MiB wasted. A third replaces /data wholesale, so overlayfs marks the
    // new /data opaque: without CAP_SYS_ADMIN the pod cannot read that trusted.* marker and takes
    // it from layerdb's tar-split record instead, and must count the same 1 MiB the host does.
    const mid = `FROM base:latest\nRUN head -c ${MiB} /dev/urandom > /mid.bin\n`;
    await buildClassic(d, 'shared-a:latest', `${mid}RUN echo a > /a.txt\n`);
    await buildClassic(d, 'shared-b:latest', `${mid}RUN rm /mid.bin\n`);
    await buildClassic(d, OPAQUE_IMAGE, `FROM base:latest\nRUN mkdir /data && head -c ${MiB} /dev/urandom > /data/big.bin\nRUN rm -rf /data && mkdir /data && echo keep > /data/keep\n`);
    // A compose-labelled container that copies /mid.bin up, writes its own bytes and a volume's, and logs.
    await d.docker(['volume', 'create', 'ldu-vol']);
    await d.docker([
      'run', '--network=none', '--name', 'writer', '-v', 'ldu-vol:/vol',
      '--label', 'com.docker.compose.project=demo', '--label', 'com.docker.compose.service=app',
      'shared-a:latest', 'sh', '-c', 'echo x >> /mid.bin && head -c 65536 /dev/urandom > /w.bin && head -c 524288 /dev/urandom > /vol/v.bin && seq 1 2000',
    ]);
    const writer = (await d.docker(['inspect', '--format', '{{.Id}}', 'writer'])).trim();
    await settle(path.join(d.root, 'containers', writer, `${writer}-json.log`));
    // A layer directory nothing refers to: an orphan.
    const leaked = path.join(d.root, 'overlay2', randomBytes(32).toString('hex'), 'diff');
    await mkdir(leaked, { recursive: true });
    await writeFile(path.join(leaked, 'leaked.bin'), randomBytes(256 * 1024));
    imageId = await importAgentImage(d, TAG);
  });

  after(async function () {
    // stop() removes every container and the daemon's root, the images with it.
    if (d) await d.stop();
  });

  it('holds GNU find, stdbuf with its libstdbuf.so, and a Node that loads the agent and the xattr addon', async function () {
    const probe = [
      `const { gnuFindAvailable } = await import('${IMAGE_APP}/dist/collectors/walk/find-walk.js');`,
      `const { loadXattr } = await import('${IMAGE_APP}/dist/collectors/walk/tally.js');`,
      `console.log(JSON.stringify({ find: await gnuFindAvailable(), xattr: typeof loadXattr().getAttributeSync, node: process.version }));`,
    ].join(' ');
    const out = await d!.docker(['run', '--rm', ...podFlags(d!), '--entrypoint', IMAGE_NODE, TAG, '--input-type=module', '-e', probe]);
    assert.deepEqual(JSON.parse(out), { find: true, xattr: 'function', node: process.version }, 'the walker the agent picks is GNU find');
    // …and nothing in the image's environment sends it to the Node walker (LAYERDU_WALKER=node).
    const env = JSON.parse(await d!.docker(['image', 'inspect', '--format', '{{json .Config.Env}}', TAG])) as string[];
    assert.deepEqual(env, [`PATH=${IMAGE_PATH}`]);
    // stdbuf finds its preload library (it fails without) and the find it runs is GNU's.
    const find = await d!.docker(['run', '--rm', ...podFlags(d!), '--entrypoint', '/usr/bin/stdbuf', TAG, '-o', '64K', 'find', '--version']);
    assert.match(find, /GNU findutils/);
  });

  /**
   * The pod's report against the host's, each field: the pod's paths carry the mount path where
   * the host's name the daemon's root, mapped back before comparing. Masked on both sides: `scan`
   * (timings, collector durations) and, of `filesystem`, where it is mounted (a bind mount at the
   * mount path in the pod) and its free space (it moves with every write on this host); and
   * whatever `also` masks.
   */
  function compare(podStdout: string, host: Report, also: (r: Report) => Report = (r) => r): { compared: number; diff: string[] } {
    const pod = JSON.parse(podStdout.split(IN_ROOT).join(d!.root)) as Report;
    // `host.os` too: the pod is given the host's docker paths, not its /etc/os-release, so it names
    // the kernel's system ("Linux") where the host names its distribution.
    const mask = (r: Report) => {
      const { scan: _scan, filesystem, host: facts, ...rest } = also(structuredClone(r));
      return { ...rest, host: facts && { ...facts, os: undefined }, filesystem: filesystem && { ...filesystem, mountpoint: undefined, avail: undefined } };
    };
    const [a, b] = [mask(pod), mask(host)];
    return { compared: leaves(a).size, diff: differences(a, b) };
  }

  /** What both reports must show before their figures compare. */
  function checkBoth(pod: Report, host: Report, self: string): void {
    assert.equal(pod.dockerRoot, IN_ROOT, 'the default docker root under --path.rootfs');
    assert.equal(pod.apiUp, true, 'the read-only socket answered');
    assert.equal(host.apiUp, true);
    assert.deepEqual(pod.errors, [], 'no walker or read errors in the pod');
    assert.deepEqual(host.errors, []);
    assert.deepEqual(pod.scan.collectors.filter((c) => !c.success), [], 'every collector succeeded in the pod');
    assert.ok(pod.images.some((i) => i.id === imageId), 'the layerdu image measured itself');
    assert.ok(pod.containers.some((c) => c.id === self), 'and its own container');
    // The fixture's cases are all there, so the comparison covers them.
    assert.ok(pod.images.some((i) => i.wasted.disk >= MiB), 'wasted bytes');
    assert.ok(pod.layers.some((l) => l.images.length >= 2), 'a shared layer');
    assert.ok(pod.containers.some((c) => c.copiedUp.disk >= MiB && c.logs > 0), 'copy-up and logs');
    assert.ok(pod.volumes.some((v) => v.disk >= 512 * 1024), 'a volume');
    assert.equal(pod.owners.length, 1, 'the compose project');
    assert.equal(pod.orphans.length, 1, 'the leaked layer directory');
  }

  it('reports the figures the host binary reports (docker run --report)', async function () {
    // A report from the host first, so that whatever the daemon writes the first time it is asked
    // (e.g. BuildKit's cache sizes on /system/df) is written before the two compared.
    await reportJson(['--docker-root', d!.root, '--docker-host', d!.host]);
    // Kept (no --rm): the host report right after must see the same images and containers, this
    // one included; removed once both are taken.
    const name = 'layerdu-report';
    const started = Date.now();
    const stdout = await d!.docker(['run', '--name', name, ...podFlags(d!), TAG, ...REPORT_ARGS]);
    const host = (await reportJson(['--docker-root', d!.root, '--docker-host', d!.host])).json;
    const seconds = (Date.now() - started) / 1000;
    const self = (await d!.docker(['inspect', '--format', '{{.Id}}', name])).trim();
    await d!.docker(['rm', name]);
    const pod = JSON.parse(stdout) as Report;
    checkBoth(pod, host, self);
    // The opaque /data hides the 1 MiB file below it: the host sees the marker, the pod its record.
    const opaque = (r: Report) => r.images.find((i) => i.tags.includes(OPAQUE_IMAGE))!.wasted.apparent;
    assert.equal(opaque(host), MiB, 'what the opaque /data hides, as root sees it');
    assert.equal(opaque(pod), MiB, 'the same without CAP_SYS_ADMIN, from layerdb\'s tar-split');

    // The layerdu container runs during its own report and has exited for the host's: its state,
    // and its runtime state, which dockerd and containerd remove when it exits (here under the
    // data root: the harness's exec-root, <root>/exec, holds runc's state.json, the OCI bundle's
    // config.json and the shim's files; and containerd's task directory), counted in `other` and
    // so in `total`. The next test compares with the container running on both sides, unmasked.
    const runtime = { disk: 0, apparent: 0 };
    for (const basis of ['disk', 'apparent'] as const) runtime[basis] = pod.totals[basis].other - host.totals[basis].other;
    // And what follows from that state: `container prune` takes the exited layerdu container, and
    // with it gone `system prune -a` takes its image too; the running one keeps both.
    const byState = new Set(['container-prune', 'system-prune', 'system-prune-all']);
    const { compared, diff } = compare(stdout, host, (r) => {
      for (const t of [r.totals.disk, r.totals.apparent]) Object.assign(t, { other: undefined, total: t.total - t.other });
      return {
        ...r,
        containers: r.containers.map((c) => (c.id === self ? { ...c, state: 'masked' } : c)),
        reclaim: r.reclaim.map((x) => (byState.has(x.action) ? { ...x, disk: 0, apparent: 0, objects: 0 } : x)),
      };
    });
    process.stderr.write(`      agent image, docker run: ${compared} fields compared, ${diff.length} differ; ` +
      `the running container's own runtime state ${runtime.disk} disk, ${runtime.apparent} apparent bytes; both reports in ${seconds.toFixed(1)} s\n`);
    assert.deepEqual(diff, []);
    assert.equal(pod.containers.find((c) => c.id === self)?.state, 'running');
    assert.equal(host.containers.find((c) => c.id === self)?.state, 'exited');
    // About 90 KiB on ext4 (22 blocks: 21 under the exec-root, containerd's task directory).
    assert.ok(runtime.disk > 0 && runtime.disk <= 256 * 1024, `runtime state of ${runtime.disk} disk bytes`);
    assert.ok(runtime.apparent > 0 && runtime.apparent <= 128 * 1024, `runtime state of ${runtime.apparent} apparent bytes`);
  });

  it('serves as the DaemonSet runs it, and a report in that pod gives the host binary its figures unmasked', async function () {
    const name = 'layerdu-agent';
    const self = (await d!.docker(['run', '-d', '--name', name, ...podFlags(d!), TAG, ...AGENT_ARGS])).trim();
    try {
      // The DaemonSet's probes, from inside the pod (its network namespace has only loopback).
      const port = /:(\d+)$/.exec(AGENT_ARGS.find((a) => a.startsWith('--web.listen-address='))!)![1];
      const scrape = [
        `for (let i = 0; i < 240; i++) {`,
        `  const m = await fetch('http://127.0.0.1:${port}/metrics').then((r) => r.text(), () => '');`,
        `  if (/^layerdu_last_scan_timestamp_seconds [1-9]/m.test(m)) {`,
        `    const h = await fetch('http://127.0.0.1:${port}/healthz');`,
        `    console.log(JSON.stringify({ healthz: h.status, metrics: m })); process.exit(0);`,
        `  }`,
        `  await new Promise((r) => setTimeout(r, 250));`,
        `}`,
        `process.exit(1);`,
      ].join('\n');
      const probed = JSON.parse(await d!.docker(['exec', name, IMAGE_NODE, '--input-type=module', '-e', scrape])) as { healthz: number; metrics: string };
      assert.equal(probed.healthz, 200);
      assert.match(probed.metrics, /^layerdu_docker_api_up 1$/m);
      assert.match(probed.metrics, /^layerdu_scan_success 1$/m);

      // A report in the same pod (its mounts, capabilities, read-only root) while the agent runs,
      // then the host's, the pod still running. The report runs under a `docker exec` that stays
      // until the host's report is taken: an exec has runtime state of its own (its pid file in
      // the OCI bundle, under this harness's exec-root), so both reports must see the same one.
      const { stdout, host } = await duringExec(d!, name, REPORT_ARGS, () => reportJson(['--docker-root', d!.root, '--docker-host', d!.host]));
      const pod = JSON.parse(stdout) as Report;
      checkBoth(pod, host, self);
      const { compared, diff } = compare(stdout, host);
      process.stderr.write(`      agent image, docker exec in the serving pod: ${compared} fields compared, ${diff.length} differ\n`);
      assert.deepEqual(diff, []);
    } finally {
      await d!.docker(['rm', '-f', name]);
    }
  });
});
