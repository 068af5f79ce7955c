// The command line: flags, then the report or the agent. Errors that carry an exit code are
// caught here, once.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Options } from 'yargs';
import { parseDockerHost } from '../../collectors/sources/docker-api.js';
import { readDockerApiOffThread } from '../../collectors/sources/docker-api-thread.js';
import { hostPaths } from '../../collectors/host/paths.js';
import { oneLine, shortPath } from '../../collectors/lib/raw-path.js';
import { setLogLevel, type Level } from '../serve/log.js';
import { DEFAULT_MAX_OBJECTS } from '../render/metrics-cap.js';
import { defaultCacheDir, PersistedLayerCache, refuseCacheSetup, type CacheSetup } from '../scan/persisted-cache.js';
import { VERSION } from './version.js';

// yargs' CommonJS build is one bundled file: it loads in about a quarter of the time its ES
// module build takes (many small modules), and every report run waits for it before walking.
const require = createRequire(import.meta.url);
const yargs = require('yargs/yargs') as typeof import('yargs').default;
const { hideBin } = require('yargs/helpers') as typeof import('yargs/helpers');

const FORMATS = ['text', 'json', 'prom', 'dot'] as const;
const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export const DEFAULT_LISTEN = ':9786';

const OPTIONS = {
  report: { type: 'boolean', default: false, describe: 'Scan once, print the report and exit' },
  format: { choices: FORMATS, default: 'text', describe: 'Report format: text for people, json, prom (exposition text), or dot (the sharing graph, for Graphviz)' },
  'docker-root': { type: 'string', defaultDescription: '/var/lib/docker, under --path.rootfs', describe: "The daemon's data root (read only)" },
  'docker-host': {
    type: 'string',
    default: process.env.DOCKER_HOST || 'unix:///var/run/docker.sock',
    defaultDescription: '$DOCKER_HOST, else unix:///var/run/docker.sock',
    describe: 'The Docker Engine API; only GET requests are made',
  },
  'containerd-root': {
    type: 'string',
    defaultDescription: "detected: <docker-root>/containerd/daemon when dockerd runs its own, else /var/lib/containerd (under --path.rootfs)",
    describe: "containerd's root, for the containerd image store (read only)",
  },
  'containerd-namespace': { type: 'string', defaultDescription: 'every namespace', describe: "The containerd namespace to measure (Docker's is moby, Kubernetes' k8s.io)" },
  'owner.label': {
    type: 'string',
    array: true,
    describe: 'A container label whose every value is an owner, named KEY=value (repeatable; compose projects are owners without it)',
  },
  'docker-timeout': { type: 'number', default: 10, describe: 'Seconds to wait for the Docker API before going on from disk alone' },
  'walk.concurrency': {
    type: 'number',
    default: 0,
    describe: "Finds walking at once; 0 chooses by the docker root's device: flash or a VM's disk max(4, 2 x cores), a spinning disk 2, else cores + 1",
  },
  'scan.schedule': { type: 'string', default: '*/5 * * * *', describe: 'When the agent scans (cron, 5 or 6 fields); it also scans at start' },
  'web.listen-address': { type: 'string', default: DEFAULT_LISTEN, describe: 'host:port to serve metrics on' },
  'web.telemetry-path': { type: 'string', default: '/metrics', describe: 'Path of the metrics' },
  'web.config.file': { type: 'string', describe: 'exporter-toolkit web config (TLS, basic auth)' },
  'metrics.max-objects': {
    type: 'number',
    default: DEFAULT_MAX_OBJECTS,
    describe: 'Per-object series of each kind (images, layers, containers, volumes, owners, orphans) beyond the N biggest by disk bytes are summed in one series labelled _other; 0 for no cap. The JSON and text reports list every object',
  },
  'log.level': { choices: LEVELS, default: 'info', describe: 'Least severe level logged (logfmt on stderr)' },
  'path.rootfs': { type: 'string', default: '/', describe: "Where the host's / is mounted (layerdu in a container); the other paths' defaults move under it" },
  'path.procfs': { type: 'string', defaultDescription: '/proc, under --path.rootfs', describe: "Where the host's /proc is mounted" },
  'path.sysfs': { type: 'string', defaultDescription: '/sys, under --path.rootfs', describe: "Where the host's /sys is mounted" },
  'path.pod-logs': { type: 'string', defaultDescription: '/var/log/pods, under --path.rootfs', describe: "The kubelet's pod log directory (Kubernetes nodes)" },
  'cache.dir': {
    type: 'string',
    defaultDescription: '$STATE_DIRECTORY (systemd), else /var/lib/layerdu, used only when it exists',
    describe: 'Where committed image layers\' walks are kept across runs (made when given; never under the docker or containerd root)',
  },
  cache: { type: 'boolean', default: true, describe: 'Use the layer cache in --cache.dir; --no-cache neither reads nor writes it' },
} satisfies Record<string, Options>;

/** `--web.listen-address` can also be set as LAYERDU_WEB_LISTEN_ADDRESS, and so on for every flag. */
export function envName(flag: string): string {
  return `LAYERDU_${flag.toUpperCase().replace(/[.-]/g, '_')}`;
}

function withEnvDefaults(env: NodeJS.ProcessEnv): Record<string, Options> {
  const out: Record<string, Options> = {};
  for (const [flag, opt] of Object.entries(OPTIONS) as [string, Options][]) {
    const value = env[envName(flag)];
    out[flag] = { ...opt, describe: `${opt.describe} [env ${envName(flag)}]` };
    if (value === undefined) continue;
    if (opt.type === 'boolean') out[flag]!.default = /^(1|true|yes)$/i.test(value);
    // A repeatable flag from one variable: its values separated by commas.
    else if (opt.array) out[flag]!.default = value.split(',').filter((v) => v !== '');
    else if (opt.type === 'number') out[flag]!.default = Number(value);
    else out[flag]!.default = value;
  }
  return out;
}

class UsageError extends Error {}

/** `--owner.label` as given: absent, once or repeated; each key once, in the order given. */
function ownerLabelsOf(v: unknown): string[] {
  return [...new Set((Array.isArray(v) ? v : v === undefined ? [] : [v]).map(String))];
}

function fail(message: string, code: number): never {
  process.stderr.write(`layerdu: ${message}\n`);
  process.exit(code);
}

async function main(argv: string[]): Promise<void> {
  const args = await yargs(argv)
    .scriptName('layerdu')
    .usage(
      '$0 [--report] [options]\n\nWhere did the disk go on this Docker host? True shared and unique bytes of image layers, containers, logs, volumes and build cache, from disk metadata, with the Docker API as a cross-check.',
    )
    // Not greedy: `--owner.label team app` is a mistake to name, not two keys.
    .parserConfiguration({ 'dot-notation': false, 'greedy-arrays': false })
    .options(withEnvDefaults(process.env))
    .check((a) => {
      parseDockerHost(String(a['docker-host']));
      if (!(Number(a['docker-timeout']) > 0)) throw new Error('--docker-timeout must be a positive number of seconds');
      if (!String(a['web.telemetry-path']).startsWith('/')) throw new Error('--web.telemetry-path must start with /');
      if (ownerLabelsOf(a['owner.label']).some((k) => k.trim() === '')) throw new Error('--owner.label needs a label key');
      const max = Number(a['metrics.max-objects']);
      if (!Number.isInteger(max) || max < 0) throw new Error('--metrics.max-objects must be a whole number, 0 for no cap');
      const finds = Number(a['walk.concurrency']);
      if (!Number.isInteger(finds) || finds < 0) throw new Error('--walk.concurrency must be a whole number, 0 to choose by the device');
      return true;
    })
    .example('$0 --report', 'Audit this host once, for a person')
    .example('$0 --report --format json | jq .totals', 'The same figures as JSON')
    .example('$0 --report --format prom > /var/lib/node_exporter/layerdu.prom', "For node_exporter's textfile collector")
    .example('$0 --web.listen-address 127.0.0.1:9786 --scan.schedule "*/10 * * * *"', 'The agent, scanning every 10 minutes')
    .strict()
    .fail((msg, err) => {
      throw new UsageError((msg || err?.message || 'bad arguments').split('\n')[0]);
    })
    .help()
    .version(VERSION)
    .wrap(Math.min(110, process.stdout.columns || 100))
    .parseAsync();

  setLogLevel(args['log.level'] as Level);
  const given = (flag: string) => (args[flag] === undefined ? undefined : String(args[flag]));
  const host = hostPaths({ rootfs: String(args['path.rootfs']), proc: given('path.procfs'), sys: given('path.sysfs') });
  const dockerRoot = given('docker-root') ?? join(host.rootfs, 'var', 'lib', 'docker');
  const dockerHost = String(args['docker-host']);
  const containerd = { root: given('containerd-root'), namespace: given('containerd-namespace') };
  const apiTimeoutMs = Number(args['docker-timeout']) * 1000;
  const ownerLabels = ownerLabelsOf(args['owner.label']);
  const podLogs = given('path.pod-logs') ?? join(host.rootfs, 'var', 'log', 'pods');
  const maxObjects = Number(args['metrics.max-objects']);
  const walkConcurrency = Number(args['walk.concurrency']);
  const cacheSetup: CacheSetup | null = args.cache
    ? { dir: given('cache.dir') ?? defaultCacheDir(), explicit: given('cache.dir') !== undefined, dockerRoot, ...(containerd.root ? { containerdRoot: containerd.root } : {}) }
    : null;
  if (cacheSetup) {
    const refused = await refuseCacheSetup(cacheSetup, join(host.rootfs, 'var', 'lib', 'containerd'));
    if (refused) throw new UsageError(refused);
  }

  if (!args.report) {
    // The agent's modules (prom-client, node-cron, yaml, bcrypt) load only for the agent: a
    // one-off report starts faster without them.
    const { runAgent } = await import('../serve/agent.js');
    const { readWebConfig } = await import('../serve/web-config.js');
    const { validateSchedule } = await import('../serve/scheduler.js');
    const { parseListenAddress } = await import('../serve/server.js');
    try {
      validateSchedule(String(args['scan.schedule']));
      parseListenAddress(String(args['web.listen-address']));
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const file = args['web.config.file'] as string | undefined;
    const webConfig = file
      ? await readWebConfig(file).catch((e: unknown) => {
          throw new UsageError(`--web.config.file ${file}: ${(e as Error).message}`);
        })
      : null;
    await runAgent({
      dockerRoot,
      dockerHost,
      host,
      containerd,
      apiTimeoutMs,
      ownerLabels,
      podLogs,
      schedule: String(args['scan.schedule']),
      listen: String(args['web.listen-address']),
      telemetryPath: String(args['web.telemetry-path']),
      webConfig,
      maxObjects,
      cacheSetup,
      walkConcurrency,
    });
    return;
  }

  const progress = process.stderr.isTTY
    ? (done: number, total: number) => {
        process.stderr.write(`\rwalking layer directories ${done}/${total}${done === total ? '\r\x1b[K' : ''}`);
      }
    : undefined;
  // The cache is read when it is there and readable, written when the directory lets us; a
  // damaged one is one warning line. It never fails the report.
  const warn = (m: string) => process.stderr.write(`layerdu: ${m}\n`);
  const persisted = cacheSetup ? await PersistedLayerCache.open(cacheSetup, VERSION, warn) : null;
  // Only a report needs the scan, the walkers and a renderer: loaded here, after the flags, so that
  // --version and --help go without them (they were two thirds of --version's module loading).
  const [{ scan }, { configureWalks }] = await Promise.all([import('../scan/scan.js'), import('../../collectors/walk/concurrency.js')]);
  // The host's facts (sysfs: about a millisecond) and, from its device, how many finds walk at once.
  const hostFacts = await configureWalks(host, dockerRoot, { given: walkConcurrency });
  const report = await scan({ dockerRoot, dockerHost, host, containerd, apiTimeoutMs, ownerLabels, podLogs, onProgress: progress, readApi: readDockerApiOffThread, hostFacts, ...(persisted ? { layerCache: persisted.cache, wasteMemo: persisted.wasteMemo } : {}) });
  const saved = persisted?.saveIfChanged();
  // One short line each: a long path is cut in the middle (the JSON's errors[].path keeps it whole).
  for (const e of report.errors) process.stderr.write(`layerdu: ${e.source}: ${e.path ? `${shortPath(e.path)}: ` : ''}${oneLine(e.message)}\n`);
  const format = args.format as (typeof FORMATS)[number];
  const out =
    format === 'json'
      ? (await import('../render/json.js')).renderJson(report)
      : format === 'prom'
        ? await (await import('../render/prom.js')).renderProm(report, maxObjects)
        : format === 'dot'
          ? (await import('../render/dot.js')).renderDot(report)
          : (await import('../render/text.js')).renderText(report, { color: process.stdout.isTTY });
  process.stdout.write(out);
  await saved;
}

export function run(): Promise<void> {
  return main(hideBin(process.argv)).catch(async (e: unknown) => {
    if (e instanceof UsageError) fail(e.message, 2);
    // Loaded by then when a scan ran (and cheaply found when none did).
    const { ScanAbort } = await import('../scan/scan.js');
    if (e instanceof ScanAbort) fail(e.message, e.exitCode);
    fail(`unexpected failure: ${(e as Error)?.stack ?? String(e)}`, 1);
  });
}
