// The log-rotation audit on a real daemon of its own. Its host's / for layerdu is a prefix
// (--path.rootfs): daemon.json at <prefix>/etc/docker/daemon.json (the daemon reads it through
// --config-file) and the data root at <prefix>/var/lib/docker, where that daemon.json speaks of.
// First daemon.json has no log options: containers `limited` (--log-opt max-size=1m),
// `unlimited` (no option), `silent` (--log-driver none), `local` (--log-driver local) and
// `rotating` (max-size=100k, max-file=2, which rotates: Docker's reading of sizes). Then
// the daemon restarts with the default "log-opts": {"max-size": "10m", "max-file": "2"} and
// `after` is created under it: `unlimited`, created before, stays unbounded. Last the agent scans
// while `unlimited` writes (started again), and reports how fast its log grows.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { LOCAL_MAX_FILE, LOCAL_MAX_SIZE } from '../../agent/model/log-audit.js';
import type { Report } from '../../agent/model/report.js';
import { parseExposition, pick, startAgent, value, type AgentProcess } from '../support/agent-process.js';
import { waitGone } from '../support/containerd-store.js';
import { findExecutable, makeBaseImage, startDaemon, type Daemon } from '../support/dockerd.js';
import { settle } from '../support/fixture-builders.js';
import { reportJson } from '../support/fixture-report.js';
import { duB1, runReport } from '../support/oracles.js';

const EVERY_2S = '*/2 * * * * *';
// Logs 3000 lines and ends; once /more exists (docker cp) it goes on writing 500 lines a second.
const SCRIPT = 'seq 1 3000; while [ -e /more ]; do seq 1 500; sleep 1; done';

describe('log audit on a real daemon: which containers have no log limit, and how fast they grow', function () {
  this.timeout(600_000);
  let prefix = '';
  let root = '';
  let config = '';
  let d: Daemon | null = null;
  let agent: AgentProcess | null = null;
  const ids: Record<string, string> = {};

  const start = () => startDaemon({ dataRoot: root, extraArgs: ['--config-file', config] });
  const scanArgs = () => ['--docker-root', root, '--docker-host', d!.host, '--path.rootfs', prefix, '--path.procfs', '/proc', '--path.sysfs', '/sys'];
  const logFile = (name: string) => path.join(root, 'containers', ids[name]!, `${ids[name]}-json.log`);
  const byName = (rep: Report) => new Map(rep.containers.map((c) => [c.name, c]));

  /** Creates a container with these options, runs it to its end and waits for its log to settle. */
  async function runToEnd(name: string, opts: string[]): Promise<void> {
    ids[name] = (await d!.docker(['create', '--name', name, '--network=none', ...opts, 'base:latest', 'sh', '-c', SCRIPT])).trim();
    await d!.docker(['start', '-a', ids[name]!]);
    if (!opts.includes('none') && !opts.includes('local')) await settle(logFile(name));
  }

  /** Stops the daemon as a service manager does (SIGTERM: the containers stay), then starts it on the same root. */
  async function restart(): Promise<void> {
    process.kill(d!.pid, 'SIGTERM');
    await waitGone(d!.pid, 'dockerd');
    // The harness sees it gone and only clears leftovers: no container is removed, the root stays.
    await d!.stop();
    d = await start();
  }

  before(async function () {
    if (process.getuid?.() !== 0) this.skip();
    for (const tool of ['dockerd', 'busybox', 'du']) if (!findExecutable(tool)) this.skip();
    prefix = await mkdtemp('/tmp/ldu-logs-');
    root = path.join(prefix, 'var', 'lib', 'docker');
    config = path.join(prefix, 'etc', 'docker', 'daemon.json');
    await mkdir(path.dirname(config), { recursive: true });
    await mkdir(root, { recursive: true });
    await writeFile(config, '{}\n');
    d = await start();
    await makeBaseImage(d, 'base:latest');
    await runToEnd('limited', ['--log-opt', 'max-size=1m']);
    await runToEnd('unlimited', []);
    await runToEnd('silent', ['--log-driver', 'none']);
    await runToEnd('local', ['--log-driver', 'local']);
    await runToEnd('rotating', ['--log-opt', 'max-size=100k', '--log-opt', 'max-file=2']);
  });

  after(async function () {
    await agent?.stop();
    await d?.stop();
    if (prefix) await rm(prefix, { recursive: true, force: true });
  });

  it('no daemon default: the audit names exactly the container without a limit, with its log bytes as du says', async () => {
    const rep = (await reportJson(scanArgs())).json;
    assert.deepEqual(rep.errors, []);
    const c = byName(rep);
    assert.deepEqual(c.get('limited')!.logLimit, { driver: 'json-file', maxSize: 1_000_000, maxFile: 1, source: 'container' });
    assert.deepEqual(c.get('unlimited')!.logLimit, { driver: 'json-file', maxSize: null, maxFile: null, source: null });
    assert.deepEqual(c.get('silent')!.logLimit, { driver: 'none', maxSize: null, maxFile: null, source: null });
    assert.deepEqual(c.get('local')!.logLimit, { driver: 'local', maxSize: LOCAL_MAX_SIZE, maxFile: LOCAL_MAX_FILE, source: 'default' });
    assert.deepEqual(rep.logAudit!.map((a) => a.name), ['unlimited']);
    // Docker reads `100k` as layerdu does, 100,000 bytes (decimal): it rotated the file once it
    // had reached that, before the next line (a line is under 100 bytes; 102,400 would be binary).
    assert.deepEqual(c.get('rotating')!.logLimit, { driver: 'json-file', maxSize: 100_000, maxFile: 2, source: 'container' });
    const rotated = (await stat(`${logFile('rotating')}.1`)).size;
    assert.ok(rotated >= 100_000 && rotated < 100_100, `the rotated file has ${rotated} bytes`);
    const entry = rep.logAudit![0]!;
    assert.equal(entry.containerId, ids.unlimited);
    assert.equal(entry.driver, 'json-file');
    assert.equal(entry.logs, await duB1(logFile('unlimited')), 'du -B1 of the json log');
    assert.ok(entry.logs > 0);
    assert.equal(entry.growth, null, 'a one-off report has no previous scan');
  });

  it("the daemon's default applies to containers created after it; the one created before stays unbounded", async () => {
    await writeFile(config, `${JSON.stringify({ 'log-opts': { 'max-size': '10m', 'max-file': '2' } })}\n`);
    await restart();
    await runToEnd('after', []);
    // Docker's own record: it copied the daemon's options into the new container only.
    const logConfig = async (name: string) => JSON.parse(await d!.docker(['inspect', '--format', '{{json .HostConfig.LogConfig}}', name])) as unknown;
    assert.deepEqual(await logConfig('after'), { Type: 'json-file', Config: { 'max-file': '2', 'max-size': '10m' } });
    assert.deepEqual(await logConfig('unlimited'), { Type: 'json-file', Config: {} });

    const rep = (await reportJson(scanArgs())).json;
    assert.deepEqual(rep.errors, []);
    const c = byName(rep);
    assert.deepEqual(c.get('after')!.logLimit, { driver: 'json-file', maxSize: 10_000_000, maxFile: 2, source: 'daemon' });
    assert.deepEqual(c.get('limited')!.logLimit, { driver: 'json-file', maxSize: 1_000_000, maxFile: 1, source: 'container' });
    assert.deepEqual(rep.logAudit!.map((a) => [a.name, a.logs]), [['unlimited', await duB1(logFile('unlimited'))]]);

    const text = await runReport(['--format', 'text', ...scanArgs()]);
    assert.equal(text.code, 0, text.stderr);
    const section = text.stdout.slice(text.stdout.indexOf('Logs without a size limit'));
    assert.match(section, /^Logs without a size limit \(1: /);
    const rows = section.split('\n').slice(2, 3);
    assert.match(rows[0]!, /^ {2}unlimited /);
    assert.match(section, new RegExp(`truncate -s 0 ${root}/containers/<id>/<id>-json\\.log`));
  });

  it('the agent reports the growth of an unbounded log between two scans, and flags only it', async () => {
    // `unlimited` again, now writing on: created before the default, it keeps no limit.
    const more = path.join(prefix, 'more');
    await writeFile(more, '');
    await d!.docker(['cp', more, `${ids.unlimited}:/more`]);
    await d!.docker(['start', ids.unlimited!]);
    agent = await startAgent([...scanArgs(), '--scan.schedule', EVERY_2S]);
    const labels = { container_id: ids.unlimited!, name: 'unlimited' };
    const first = parseExposition(await agent.scrapeAfter(0));
    assert.equal(value(first, 'layerdu_container_log_unbounded', labels), 1);
    const bytes1 = value(first, 'layerdu_container_bytes', { ...labels, scope: 'logs' });
    // Growth needs two scans: wait for one that reports it, and whose disk bytes show it too (on a
    // loaded machine ext4's delayed allocation can leave st_blocks behind st_size for a scan).
    let samples = first;
    const grown = () => pick(samples, 'layerdu_container_log_growth_bytes_per_second', labels).length > 0 && value(samples, 'layerdu_container_bytes', { ...labels, scope: 'logs' }) > bytes1;
    for (let since = value(first, 'layerdu_last_scan_timestamp_seconds'); !grown(); ) {
      samples = parseExposition(await agent.scrapeAfter(since));
      since = value(samples, 'layerdu_last_scan_timestamp_seconds');
    }
    const growth = value(samples, 'layerdu_container_log_growth_bytes_per_second', labels);
    assert.ok(value(samples, 'layerdu_container_bytes', { ...labels, scope: 'logs' }) > bytes1, 'the log grew');
    // 500 lines a second of about 70 bytes each: tens of KB a second, not nothing and not MB.
    assert.ok(growth > 1000 && growth < 1_000_000, `growth ${growth} B/s`);
    // Only the unbounded container is flagged, and only it has a growth series.
    assert.deepEqual(pick(samples, 'layerdu_container_log_unbounded').map((s) => s.labels.name), ['unlimited']);
    assert.deepEqual(pick(samples, 'layerdu_container_log_growth_bytes_per_second').map((s) => s.labels.name), ['unlimited']);
  });
});
