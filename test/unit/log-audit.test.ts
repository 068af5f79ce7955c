// The log-rotation audit: Docker's size syntax, hostconfig.json's and daemon.json's log options,
// which limit bounds each container and where it came from, exactly the unbounded ones in the
// audit with their growth since the previous scan, and how the text and the metrics show them.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { buildReport } from '../../agent/model/build-report.js';
import { LOCAL_MAX_FILE, LOCAL_MAX_SIZE, logAudit, logLimitOf, previousLogsOf, type PreviousLogs } from '../../agent/model/log-audit.js';
import type { ContainerReport } from '../../agent/model/report.js';
import type { ScanFacts } from '../../agent/model/scan-facts.js';
import { ReportMetrics } from '../../agent/render/metrics.js';
import { logSeries } from '../../agent/render/metrics-logs.js';
import { renderText } from '../../agent/render/text.js';
import { readDaemonConfig } from '../../collectors/host/daemon-config.js';
import { hostPaths } from '../../collectors/host/paths.js';
import { ZERO, type ContainerFact, type Problem } from '../../collectors/lib/facts.js';
import type { LogConfigFact } from '../../collectors/lib/log-config.js';
import { readContainers } from '../../collectors/sources/containers.js';
import { daemonLogConfig, parseDockerSize, parseHostConfigLog, readDaemonLog } from '../../collectors/sources/log-config.js';

const id = (c: string) => c.repeat(64);
const log = (driver: string, maxSize: number | null = null, maxFile: number | null = null): LogConfigFact => ({ driver, maxSize, maxFile });

describe('log audit: Docker size syntax (go-units FromHumanSize, as json-file and local read max-size)', () => {
  it('decimal suffixes, any case, with b / ib spellings and one space', () => {
    const cases: Array<[string, number]> = [
      ['10m', 10_000_000], ['1g', 1_000_000_000], ['500k', 500_000], ['2t', 2e12], ['1p', 1e15],
      ['10M', 10_000_000], ['10mb', 10_000_000], ['10MiB', 10_000_000], ['10 m', 10_000_000], ['10kB', 10_000],
      ['1024', 1024], ['1024b', 1024], ['0', 0], ['1.5m', 1_500_000], ['0.3k', 300], ['1e3', 1000], ['7.9', 7], ['5 ', 5],
    ];
    for (const [text, bytes] of cases) assert.equal(parseDockerSize(text), bytes, text);
  });

  it('what go-units refuses', () => {
    for (const text of ['', 'm', '-1', '-1m', '10x', '10mbb', '10kib2', '10  m', ' 10m', '1.2.3m', 'ten', '10mm', '0x10']) {
      assert.equal(parseDockerSize(text), null, JSON.stringify(text));
    }
  });
});

describe('log audit: hostconfig.json and daemon.json', () => {
  it('hostconfig.json as Docker writes it: driver, max-size and max-file', () => {
    const text =
      '{"Binds":null,"ContainerIDFile":"","LogConfig":{"Type":"json-file","Config":{"max-file":"3","max-size":"10m"}},' +
      '"NetworkMode":"none","PortBindings":{},"RestartPolicy":{"Name":"no","MaximumRetryCount":0},"AutoRemove":false}';
    assert.deepEqual(parseHostConfigLog(text), log('json-file', 10_000_000, 3));
    assert.deepEqual(parseHostConfigLog('{"LogConfig":{"Type":"json-file","Config":{}}}'), log('json-file'));
    assert.deepEqual(parseHostConfigLog('{"LogConfig":{"Type":"journald","Config":null}}'), log('journald'));
    assert.deepEqual(parseHostConfigLog('{"LogConfig":{"Type":"local","Config":{"max-size":"1g"}}}'), log('local', 1e9));
    assert.deepEqual(parseHostConfigLog('{}'), log(''), 'no LogConfig: no driver named');
  });

  it('a size or count Docker would refuse, or a file that is no JSON, throws', () => {
    assert.throws(() => parseHostConfigLog('{"LogConfig":{"Type":"json-file","Config":{"max-size":"ten"}}}'), /invalid max-size "ten"/);
    assert.throws(() => parseHostConfigLog('{"LogConfig":{"Type":"json-file","Config":{"max-file":"3.5"}}}'), /invalid max-file/);
    assert.throws(() => parseHostConfigLog('{"LogConfig":'));
  });

  it("daemon.json's log-driver and log-opts", () => {
    assert.deepEqual(daemonLogConfig({ 'log-driver': 'local', 'log-opts': { 'max-size': '5m', 'max-file': '2' } }), log('local', 5_000_000, 2));
    assert.deepEqual(daemonLogConfig({ 'log-opts': { 'max-size': '10m' } }), log('', 10_000_000));
    assert.deepEqual(daemonLogConfig({ 'storage-driver': 'overlay2' }), log(''));
  });

  it('daemon.json is read under --path.rootfs, its log-opts only when it speaks of this root', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ldu-logcfg-'));
    try {
      const host = hostPaths({ rootfs: dir });
      const problems: Problem[] = [];
      assert.equal(await readDaemonConfig(host), null, 'missing');
      assert.equal(await readDaemonLog(host, join(dir, 'var', 'lib', 'docker'), problems), null);
      await mkdir(join(dir, 'etc', 'docker'), { recursive: true });
      await mkdir(join(dir, 'var', 'lib', 'docker'), { recursive: true });
      const cfg = join(dir, 'etc', 'docker', 'daemon.json');
      await writeFile(cfg, JSON.stringify({ 'log-opts': { 'max-size': '10m', 'max-file': '3' } }));
      assert.deepEqual(await readDaemonConfig(host), { path: cfg, config: { 'log-opts': { 'max-size': '10m', 'max-file': '3' } } });
      assert.deepEqual(await readDaemonLog(host, join(dir, 'var', 'lib', 'docker'), problems), log('', 10_000_000, 3), 'the default root');
      assert.equal(await readDaemonLog(host, join(dir, 'elsewhere'), problems), null, 'another root');
      await writeFile(cfg, JSON.stringify({ 'log-opts': { 'max-size': 'lots' } }));
      assert.equal(await readDaemonLog(host, join(dir, 'var', 'lib', 'docker'), problems), null);
      assert.deepEqual(problems, [{ path: cfg, message: 'log-opts: invalid max-size "lots"' }]);
      await writeFile(cfg, '[1]');
      assert.equal(await readDaemonConfig(host), null, 'not an object');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("readContainers gives each container its hostconfig.json's log config, and names a broken one", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ldu-logct-'));
    try {
      for (const [c, host] of [['a', '{"LogConfig":{"Type":"json-file","Config":{"max-size":"1m"}}}'], ['b', null], ['d', '{"LogConfig":{"Type":"json-file","Config":{"max-size":"x"}}}']] as const) {
        await mkdir(join(dir, id(c)));
        await writeFile(join(dir, id(c), 'config.v2.json'), JSON.stringify({ ID: id(c), Name: `/${c}`, Image: 'sha256:x', State: {} }));
        if (host) await writeFile(join(dir, id(c), 'hostconfig.json'), host);
      }
      const problems: Problem[] = [];
      const found = await readContainers(dir, problems);
      assert.deepEqual(found.map((c) => c.log), [log('json-file', 1_000_000), undefined, undefined]);
      assert.deepEqual(problems, [{ path: join(dir, id('d'), 'hostconfig.json'), message: 'log configuration unknown: invalid max-size "x"' }]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('log audit: which limit, and where it came from', () => {
  const noDefault = null;
  const daemon10m = log('', 10_000_000);

  it('a per-container limit under a daemon without one', () => {
    assert.deepEqual(logLimitOf(log('json-file', 1_000_000, 2), noDefault), { driver: 'json-file', maxSize: 1_000_000, maxFile: 2, source: 'container' });
    assert.deepEqual(logLimitOf(log('json-file', 1_000_000), log('json-file')), { driver: 'json-file', maxSize: 1_000_000, maxFile: 1, source: 'container' }, 'json-file keeps one file');
  });

  it("the daemon's default, as Docker copied it in at create", () => {
    assert.deepEqual(logLimitOf(log('json-file', 10_000_000), daemon10m), { driver: 'json-file', maxSize: 10_000_000, maxFile: 1, source: 'daemon' });
    assert.deepEqual(logLimitOf(log('json-file', 1_000_000), daemon10m), { driver: 'json-file', maxSize: 1_000_000, maxFile: 1, source: 'container' }, 'its own value');
  });

  it('a container created before the daemon had a default stays unbounded', () => {
    assert.deepEqual(logLimitOf(log('json-file'), daemon10m), { driver: 'json-file', maxSize: null, maxFile: null, source: null });
    assert.deepEqual(logLimitOf(log('json-file', null, 3), noDefault), { driver: 'json-file', maxSize: null, maxFile: null, source: null }, 'max-file alone bounds nothing');
  });

  it('a record without a driver takes the daemon default, as Docker would', () => {
    assert.deepEqual(logLimitOf(log(''), daemon10m), { driver: 'json-file', maxSize: 10_000_000, maxFile: 1, source: 'daemon' });
    assert.deepEqual(logLimitOf(log(''), log('journald')), { driver: 'journald', maxSize: null, maxFile: null, source: null });
  });

  it('the local driver is limited by its own default, and not by json-file options', () => {
    const local = { driver: 'local', maxSize: LOCAL_MAX_SIZE, maxFile: LOCAL_MAX_FILE, source: 'default' };
    assert.deepEqual(logLimitOf(log('local'), noDefault), local);
    assert.deepEqual(logLimitOf(log('local'), daemon10m), local, "the daemon's options are for its default driver");
    assert.deepEqual(logLimitOf(log('local', 5_000_000), noDefault), { driver: 'local', maxSize: 5_000_000, maxFile: LOCAL_MAX_FILE, source: 'container' });
    assert.deepEqual(logLimitOf(log('local', 5_000_000, 2), log('local', 5_000_000, 2)), { driver: 'local', maxSize: 5_000_000, maxFile: 2, source: 'daemon' });
  });

  it('drivers that write nothing under the docker root are not applicable', () => {
    for (const driver of ['journald', 'syslog', 'none', 'fluentd', 'gelf']) {
      assert.deepEqual(logLimitOf(log(driver), daemon10m), { driver, maxSize: null, maxFile: null, source: null }, driver);
    }
  });
});

/** Minimal facts: no image, just containers with logs and log configurations. */
function facts(containers: Array<{ c: string; name: string; logs: number; log?: LogConfigFact }>, extra: Partial<ScanFacts> = {}): ScanFacts {
  const fact = (x: (typeof containers)[number]): ContainerFact => ({
    id: id(x.c), name: x.name, imageId: 'sha256:x', state: 'running', volumes: [], labels: {},
    logs: { disk: x.logs, apparent: x.logs }, logFiles: 1, logPaths: [], ...(x.log ? { log: x.log } : {}),
  });
  return {
    dockerRoot: '/var/lib/docker',
    driver: { name: 'overlay2', store: 'graphdriver', backingFs: 'extfs', dType: true, vfsFallback: false, reason: '' },
    filesystem: null, images: [], layers: [], mounts: [], containers: containers.map(fact), volumes: [],
    dirs: new Map(), indexes: new Map(), buildkitStore: ZERO, other: ZERO, api: null, errors: [],
    scan: { startedAt: '2024-05-01T10:05:00.000Z', finishedAt: '2024-05-01T10:05:01.000Z', durationSeconds: 1, collectors: [], layersWalked: 0, layersReused: 0 },
    ...extra,
  };
}

const HOST = [
  { c: 'a', name: 'limited', logs: 900_000, log: log('json-file', 1_000_000, 3) },
  { c: 'b', name: 'small', logs: 4096, log: log('json-file') },
  { c: 'c', name: 'big', logs: 50_000_000, log: log('json-file') },
  { c: 'd', name: 'silent', logs: 0, log: log('none') },
  { c: 'e', name: 'local', logs: 8192, log: log('local') },
  { c: 'f', name: 'defaulted', logs: 12_288, log: log('json-file', 10_000_000) },
  { c: 'g', name: 'pod', logs: 777 }, // no hostconfig.json: a CRI container, the kubelet rotates it
];

describe('log audit: the report', () => {
  it('containers carry their limit; the audit names exactly the unbounded json-file ones, biggest first', () => {
    const r = buildReport(facts(HOST, { daemonLog: log('', 10_000_000) }));
    const limits = new Map(r.containers.map((c) => [c.name, c.logLimit]));
    assert.deepEqual(limits.get('limited'), { driver: 'json-file', maxSize: 1_000_000, maxFile: 3, source: 'container' });
    assert.deepEqual(limits.get('defaulted'), { driver: 'json-file', maxSize: 10_000_000, maxFile: 1, source: 'daemon' });
    assert.deepEqual(limits.get('local'), { driver: 'local', maxSize: LOCAL_MAX_SIZE, maxFile: LOCAL_MAX_FILE, source: 'default' });
    assert.deepEqual(limits.get('silent'), { driver: 'none', maxSize: null, maxFile: null, source: null });
    assert.equal(limits.get('pod'), undefined);
    assert.deepEqual(r.logAudit, [
      { containerId: id('c'), name: 'big', driver: 'json-file', logs: 50_000_000, growth: null },
      { containerId: id('b'), name: 'small', driver: 'json-file', logs: 4096, growth: null },
    ]);
  });

  it("the reclaim plan's logs entry is what truncating exactly these logs frees", () => {
    const logs = buildReport(facts(HOST)).reclaim.find((r) => r.action === 'logs');
    assert.deepEqual(logs, { action: 'logs', command: null, disk: 50_000_000 + 4096, apparent: 50_000_000 + 4096, objects: 2 });
  });

  it('growth since the previous scan: bytes and seconds between the two scans; null for a container new since', () => {
    const previous: PreviousLogs = new Map([
      [id('c'), { bytes: 20_000_000, at: Date.parse('2024-05-01T10:00:00.000Z') / 1000 }],
      [id('a'), { bytes: 1, at: 0 }],
    ]);
    const r = buildReport(facts(HOST, { previousLogs: previous }));
    assert.deepEqual(r.logAudit?.map((a) => [a.name, a.growth]), [['big', { bytes: 30_000_000, seconds: 300 }], ['small', null]]);
    // What the agent hands the next scan: this one's log bytes, at this one's start.
    assert.deepEqual(previousLogsOf(r).get(id('c')), { bytes: 50_000_000, at: Date.parse('2024-05-01T10:05:00.000Z') / 1000 });
    assert.equal(previousLogsOf(r).size, HOST.length);
  });

  it('a previous scan at the same instant gives no growth rather than a division by zero', () => {
    const c = { id: id('b'), name: 'x', logs: 10, logLimit: { driver: 'json-file', maxSize: null, maxFile: null, source: null } } as ContainerReport;
    const at = Date.parse('2024-05-01T10:05:00.000Z') / 1000;
    assert.deepEqual(logAudit([c], new Map([[c.id, { bytes: 5, at }]]), '2024-05-01T10:05:00.000Z')[0]!.growth, null);
  });

  it('text: the section names each unbounded container, its growth an hour, and the safe fix', () => {
    const previous: PreviousLogs = new Map([[id('c'), { bytes: 20_000_000, at: Date.parse('2024-05-01T10:00:00.000Z') / 1000 }]]);
    const text = renderText(buildReport(facts(HOST, { previousLogs: previous })));
    const section = text.slice(text.indexOf('Logs without a size limit'));
    assert.match(section, /^Logs without a size limit \(2: json-file logs without max-size, never rotated\)\n/);
    assert.match(section, / {2}big\s+c{12}\s+47\.7 MiB\s+\+343\.3 MiB\/h\n/);
    assert.match(section, / {2}small\s+b{12}\s+4\.0 KiB\s+-\n/);
    for (const s of ['"log-opts": {"max-size": "10m", "max-file": "3"}', 'containers created afterwards only', '--log-opt max-size=10m',
      '  truncate -s 0 /var/lib/docker/containers/<id>/<id>-json.log\n', 'Never rm it']) assert.ok(section.includes(s), s);
    assert.ok(!/limited|defaulted|silent|\blocal\b.*KiB/.test(section.split('\n').slice(1, 4).join('\n')), 'only the unbounded ones are listed');
    const oneOff = renderText(buildReport(facts(HOST)));
    assert.match(oneOff, /Growth is measured between two scans of the agent; a one-off report has one scan\./);
    assert.ok(!oneOff.includes('GROWTH'));
    assert.ok(!renderText(buildReport(facts([HOST[0]!]))).includes('Logs without a size limit'), 'no section when every log is bounded');
  });

  it("metrics under the cap: the folded containers' audit entries are one _other series, their growth summed", () => {
    const entry = (c: string, growth: { bytes: number; seconds: number } | null) => ({ containerId: id(c), name: c, driver: 'json-file', logs: 1, growth });
    const audit = [entry('a', { bytes: 600, seconds: 60 }), entry('b', { bytes: 120, seconds: 60 }), entry('c', null), entry('d', { bytes: 60, seconds: 60 })];
    assert.deepEqual(logSeries(audit, new Set([id('a')])), [
      { labels: { container_id: id('a'), name: 'a' }, unbounded: 1, growth: 10 },
      { labels: { container_id: '_other', name: '_other' }, unbounded: 3, growth: 3 },
    ]);
    assert.deepEqual(logSeries([entry('c', null)], new Set()), [{ labels: { container_id: '_other', name: '_other' }, unbounded: 1, growth: null }]);
    assert.equal(logSeries(audit, new Set(audit.map((a) => a.containerId))).length, 4, 'no cap: every one its own');
  });

  it('metrics: layerdu_container_log_unbounded for each, the growth rate when known', async () => {
    const registry = new Registry();
    const m = new ReportMetrics(registry);
    m.update(buildReport(facts(HOST, { previousLogs: new Map([[id('c'), { bytes: 20_000_000, at: Date.parse('2024-05-01T10:00:00.000Z') / 1000 }]]) })));
    const text = await registry.metrics();
    const samples = text.split('\n').filter((l) => /^layerdu_container_log_/.test(l)).sort();
    assert.deepEqual(samples, [
      `layerdu_container_log_growth_bytes_per_second{container_id="${id('c')}",name="big"} 100000`,
      `layerdu_container_log_unbounded{container_id="${id('b')}",name="small"} 1`,
      `layerdu_container_log_unbounded{container_id="${id('c')}",name="big"} 1`,
    ]);
    // Under --metrics.max-objects the folded containers' log series fold too: `_other` counts them.
    const capped = new Registry();
    new ReportMetrics(capped, 1).update(buildReport(facts(HOST)));
    assert.deepEqual((await capped.metrics()).split('\n').filter((l) => /^layerdu_container_log_unbounded/.test(l)).sort(), [
      'layerdu_container_log_unbounded{container_id="_other",name="_other"} 1',
      `layerdu_container_log_unbounded{container_id="${id('c')}",name="big"} 1`,
    ]);
    // The next scan's figures replace these: a container given a limit leaves the series.
    m.update(buildReport(facts([HOST[0]!])));
    assert.ok(!/^layerdu_container_log_/m.test(await registry.metrics()));
  });
});
