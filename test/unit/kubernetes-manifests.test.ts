// The cluster manifests in systemd/kubernetes/, offline: every object against the Kubernetes
// OpenAPI schema of its kind (kubernetes-models; the ServiceMonitor against the Prometheus
// operator's CRD schema), then what the schemas cannot say: the DaemonSet holds the systemd unit's
// hardening, mounts the host read-only, and its ports, probes and flags agree with the agent.
// The schemas let unknown fields through, so each property that matters is read by its exact name.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DaemonSet, type IDaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Service, type IService } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { ServiceMonitor, type IServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { DEFAULT_LISTEN } from '../../agent/cli/command.js';
import { CLI, REPO_ROOT } from '../support/oracles.js';

const DIR = join(REPO_ROOT, 'systemd', 'kubernetes');
const NAMESPACE = 'layerdu';
/** The layer cache's volume: the one writable mount (README, Performance). */
const CACHE_VOLUME = 'cache';
const CACHE_DIR = '/var/lib/layerdu';
/** Needs the Prometheus operator's CRD, so kustomization.yaml leaves it out on purpose. */
const OPERATOR_ONLY = 'servicemonitor.yaml';

interface Validating {
  validate(): void;
}
type Kind = { apiVersion: string; kind: string; new (data: never): Validating };
const KINDS: Kind[] = [Namespace, ServiceAccount, DaemonSet, Service, ServiceMonitor] as unknown as Kind[];

interface Doc {
  file: string;
  obj: Record<string, unknown> & { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string; labels?: Record<string, string> } };
}

const manifestFiles = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
  .sort();

function readDocs(): Doc[] {
  return manifestFiles.flatMap((file) =>
    parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => {
      assert.deepEqual(d.errors, [], `${file}: YAML errors`);
      return { file, obj: d.toJS() as Doc['obj'] };
    }),
  );
}
const docs = readDocs();

function kindOf(obj: Doc['obj']): Kind {
  const k = KINDS.find((c) => c.kind === obj.kind && c.apiVersion === obj.apiVersion);
  assert.ok(k, `no schema for ${obj.apiVersion} ${obj.kind}`);
  return k;
}

/** Runs the schema's check; throws with ajv's message when the object does not fit. */
function validate(obj: Doc['obj']): void {
  const K = kindOf(obj);
  new K(structuredClone(obj) as never).validate();
}

function only<T>(kind: string): T {
  const found = docs.filter((d) => d.obj.kind === kind);
  assert.equal(found.length, 1, `exactly one ${kind}`);
  return found[0]!.obj as T;
}

const daemonSet = only<IDaemonSet>('DaemonSet');
const service = only<IService>('Service');
const serviceMonitor = only<IServiceMonitor>('ServiceMonitor');
const pod = daemonSet.spec!.template.spec!;
const container = (() => {
  assert.equal(pod.containers.length, 1);
  return pod.containers[0]!;
})();

/** `--flag=value` arguments as a map. */
const args = new Map(
  (container.args ?? []).map((a) => {
    const m = /^--([^=]+)=(.*)$/.exec(a);
    assert.ok(m, `argument ${a} is not --flag=value`);
    return [m[1]!, m[2]!] as const;
  }),
);

describe('Kubernetes manifests (systemd/kubernetes/)', () => {
  describe('every object fits the OpenAPI schema of its kind', () => {
    for (const { file, obj } of docs) {
      it(`${file}: ${obj.kind} ${obj.metadata?.name}`, () => {
        validate(obj);
        assert.equal(obj.metadata?.labels?.['app.kubernetes.io/name'], 'layerdu');
        if (obj.kind !== 'Namespace') assert.equal(obj.metadata?.namespace, NAMESPACE, 'in the layerdu namespace');
      });
    }
  });

  it('has the Namespace, ServiceAccount, DaemonSet, Service and ServiceMonitor, the ServiceMonitor in a file of its own', () => {
    assert.deepEqual(docs.map((d) => d.obj.kind).sort(), ['DaemonSet', 'Namespace', 'Service', 'ServiceAccount', 'ServiceMonitor']);
    assert.deepEqual(
      docs.filter((d) => d.file === OPERATOR_ONLY).map((d) => d.obj.kind),
      ['ServiceMonitor'],
    );
    assert.equal(only<{ metadata: { name: string } }>('Namespace').metadata.name, NAMESPACE);
  });

  it('a broken DaemonSet fails validation: a string where an integer goes, a required field missing', () => {
    const portAsString = structuredClone(daemonSet) as unknown as Doc['obj'];
    const spec = (portAsString as unknown as IDaemonSet).spec!.template.spec!;
    (spec.containers[0]!.ports![0] as { containerPort: unknown }).containerPort = '9786';
    assert.throws(() => validate(portAsString), /containerPort must be integer/);

    const noSelector = structuredClone(daemonSet) as unknown as Doc['obj'];
    delete (noSelector as { spec: { selector?: unknown } }).spec.selector;
    assert.throws(() => validate(noSelector), /selector/);

    const monitorPortAsNumber = structuredClone(serviceMonitor) as unknown as Doc['obj'];
    (monitorPortAsNumber as unknown as { spec: { endpoints: { port: unknown }[] } }).spec.endpoints[0]!.port = 9786;
    assert.throws(() => validate(monitorPortAsNumber), /port must be string/);
  });

  it('kustomization.yaml lists every manifest but the operator-only ServiceMonitor', () => {
    const k = parseYaml(readFileSync(join(DIR, 'kustomization.yaml'), 'utf8')) as { apiVersion: string; kind: string; resources: string[] };
    assert.equal(k.apiVersion, 'kustomize.config.k8s.io/v1beta1');
    assert.equal(k.kind, 'Kustomization');
    assert.deepEqual([...k.resources].sort(), manifestFiles.filter((f) => f !== OPERATOR_ONLY));
    assert.equal(new Set(k.resources).size, k.resources.length, 'no file twice');
  });

  it('the container holds the unit’s hardening: CAP_DAC_READ_SEARCH alone, no escalation, read-only root, RuntimeDefault seccomp', () => {
    const sc = container.securityContext!;
    assert.deepEqual(sc.capabilities?.add, ['DAC_READ_SEARCH']);
    assert.deepEqual(sc.capabilities?.drop, ['ALL']);
    assert.equal(sc.allowPrivilegeEscalation, false);
    assert.equal(sc.readOnlyRootFilesystem, true);
    assert.equal(sc.privileged, false);
    // uid 0 on purpose: a non-root user loses added capabilities at exec (no ambient
    // capabilities in Kubernetes), and the agent could not open the 0710 docker root.
    assert.equal(sc.runAsUser, 0);
    assert.equal(sc.runAsNonRoot, false);
    assert.equal(sc.seccompProfile?.type ?? pod.securityContext?.seccompProfile?.type, 'RuntimeDefault');
    for (const field of ['hostPID', 'hostIPC', 'hostNetwork'] as const) assert.notEqual(pod[field], true, field);
    assert.equal(pod.automountServiceAccountToken, false);
    assert.equal(pod.serviceAccountName, only<{ metadata: { name: string } }>('ServiceAccount').metadata.name);
    assert.deepEqual(pod.tolerations, [{ operator: 'Exists' }], 'every taint tolerated');
  });

  it('mounts only the host paths the agent reads, each read-only and at its own path under --path.rootfs', () => {
    const hostPaths = new Map((pod.volumes ?? []).filter((v) => v.hostPath && v.name !== CACHE_VOLUME).map((v) => [v.name, v.hostPath!] as const));
    assert.deepEqual(
      [...hostPaths.values()].map((h) => h.path).sort(),
      ['/etc/docker', '/var/lib/containerd', '/var/lib/docker', '/var/log/pods', '/var/run/docker.sock'],
    );
    // Socket would keep the pod from starting where Docker is absent.
    assert.equal([...hostPaths.values()].find((h) => h.path === '/var/run/docker.sock')!.type, '');
    const rootfs = args.get('path.rootfs');
    assert.equal(rootfs, '/host/root');
    const mounts = container.volumeMounts ?? [];
    for (const [name, source] of hostPaths) {
      const mine = mounts.filter((m) => m.name === name);
      assert.equal(mine.length, 1, `${name} mounted once`);
      assert.equal(mine[0]!.readOnly, true, `${name} read-only`);
      assert.equal(mine[0]!.mountPath, `${rootfs}${source.path}`, `${name} at its host path under --path.rootfs`);
    }
    for (const m of mounts.filter((m) => m.name === 'docker-root' || m.name === 'containerd-root')) {
      assert.equal(m.recursiveReadOnly, 'IfPossible', `${m.name}: containers' overlay mounts under it read-only too`);
    }
    assert.equal(args.get('docker-host'), `unix://${rootfs}/var/run/docker.sock`);
    // The pod's own /proc and /sys, not the host's.
    assert.equal(args.get('path.procfs'), '/proc');
    assert.equal(args.get('path.sysfs'), '/sys');
  });

  it('keeps the layer cache on the node in its own writable volume, outside the roots it reads, the root filesystem read-only', () => {
    const volume = (pod.volumes ?? []).find((v) => v.name === CACHE_VOLUME);
    assert.deepEqual(volume?.hostPath, { path: CACHE_DIR, type: 'DirectoryOrCreate' }, 'survives a new pod (a rollout), which an emptyDir would not');
    const mounts = (container.volumeMounts ?? []).filter((m) => m.name === CACHE_VOLUME);
    assert.equal(mounts.length, 1);
    assert.equal(mounts[0]!.mountPath, CACHE_DIR);
    assert.notEqual(mounts[0]!.readOnly, true, 'written after scans');
    assert.equal(args.get('cache.dir'), CACHE_DIR);
    const rootfs = args.get('path.rootfs')!;
    assert.ok(!CACHE_DIR.startsWith(`${rootfs}/`), 'not under --path.rootfs: none of the host paths it reads');
    const writable = (container.volumeMounts ?? []).filter((m) => m.readOnly !== true).map((m) => m.name);
    assert.deepEqual(writable, [CACHE_VOLUME], 'the only writable mount');
    assert.equal(container.securityContext?.readOnlyRootFilesystem, true);
  });

  it('passes only flags the agent has', () => {
    const help = execFileSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
    for (const flag of args.keys()) assert.match(help, new RegExp(`^\\s+--${flag.replace(/\./g, '\\.')}\\s`, 'm'), `--${flag} is a flag of layerdu`);
    assert.equal(args.has('report'), false, 'the agent, not a one-off report');
  });

  it('sets requests and limits from the bench figures', () => {
    const r = container.resources!;
    assert.deepEqual(r.requests, { cpu: '50m', memory: '128Mi' });
    assert.deepEqual(r.limits, { cpu: '1', memory: '256Mi' });
  });

  it('probes /healthz on the metrics port', () => {
    for (const probe of [container.livenessProbe, container.readinessProbe]) {
      assert.equal(probe?.httpGet?.path, '/healthz');
      assert.equal(probe?.httpGet?.port, 'metrics');
    }
  });

  it('serves on the agent’s default port, and the Service and its scrape annotations say the same port', () => {
    const defaultPort = Number(DEFAULT_LISTEN.split(':').pop());
    assert.equal(defaultPort, 9786);
    assert.equal(args.get('web.listen-address'), DEFAULT_LISTEN);
    assert.deepEqual(container.ports, [{ name: 'metrics', containerPort: defaultPort, protocol: 'TCP' }]);
    const ports = service.spec!.ports!;
    assert.equal(ports.length, 1);
    assert.equal(ports[0]!.name, 'metrics');
    assert.equal(ports[0]!.port, defaultPort);
    assert.equal(ports[0]!.targetPort, 'metrics');
    assert.equal(service.spec!.clusterIP, 'None', 'headless: each node is its own target');
    assert.deepEqual(service.spec!.selector, daemonSet.spec!.template.metadata!.labels);
    assert.deepEqual(service.metadata!.annotations, {
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': String(defaultPort),
      'prometheus.io/path': '/metrics',
    });
  });

  it('the ServiceMonitor scrapes the Service’s metrics port and names targets by node', () => {
    assert.deepEqual(serviceMonitor.spec.selector.matchLabels, service.metadata!.labels);
    const endpoints = serviceMonitor.spec.endpoints ?? [];
    assert.equal(endpoints.length, 1);
    assert.equal(endpoints[0]!.port, 'metrics');
    assert.equal(endpoints[0]!.path, '/metrics');
    assert.deepEqual(endpoints[0]!.relabelings, [{ sourceLabels: ['__meta_kubernetes_pod_node_name'], targetLabel: 'instance' }]);
  });
});
