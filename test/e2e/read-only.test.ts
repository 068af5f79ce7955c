// Read-only, proved (issue 14 B): the scans run against read-only bind mounts of an overlay2
// daemon's docker root and of a containerd-store daemon's docker and containerd roots, with every
// Docker API request going through a recording proxy. The figures equal a report on the writable
// roots, no problem speaks of a read-only filesystem or a permission, and every request the
// report and the agent made is a GET or a HEAD.
import assert from 'node:assert/strict';
import { startContainerdStore, type ContainerdStoreDaemon } from '../support/containerd-store.js';
import { findExecutable, makeBaseImage, startDaemon, type Daemon } from '../support/dockerd.js';
import { buildClassic } from '../support/fixture-builders.js';
import { parseExposition, pick, startAgent } from '../support/agent-process.js';
import { runReport } from '../support/oracles.js';
import { bindReadOnly, recordingProxy, type ReadOnlyView, type RecordingProxy } from '../support/read-only.js';
import type { Report } from '../../agent/model/report.js';

/** The report's figures without what names its roots, its timing or the API's live state. */
function figures(r: Report): unknown {
  return {
    driver: r.driver.name,
    totals: r.totals,
    images: r.images.map((i) => ({ id: i.id, tags: i.tags, disk: i.disk, apparent: i.apparent, wasted: i.wasted, layers: i.layers })),
    layers: r.layers.map((l) => ({ ...l })),
    containers: r.containers.map((c) => ({ id: c.id, writable: c.writable, init: c.init, copiedUp: c.copiedUp, logs: c.logs })),
    volumes: r.volumes,
    orphans: r.orphans.length,
    stores: r.stores.map((s) => ({ disk: s.disk, active: s.active })),
  };
}

const FORBIDDEN = /EROFS|read-only|permission|EACCES|EPERM/i;

interface Host {
  name: string;
  daemon: Daemon;
  /** The roots as the daemon has them, and their read-only views. */
  roots: Array<{ flag: string; path: string }>;
  views: ReadOnlyView[];
  proxy: RecordingProxy;
}

async function populate(d: Daemon): Promise<void> {
  await makeBaseImage(d, 'base:latest');
  await buildClassic(d, 'ro-app:latest', 'FROM base:latest\nRUN head -c 3000000 /dev/urandom > /blob && mkdir -p /etc/app && echo x > /etc/app/conf\nRUN rm /blob\n');
  await d.docker(['create', '--name', 'stopped', 'ro-app:latest', 'sh', '-c', 'echo hi']);
  await d.docker(['run', '--name', 'wrote', 'ro-app:latest', 'sh', '-c', 'head -c 500000 /dev/zero > /written; echo x >> /etc/app/conf; echo done']);
  await d.docker(['run', '-d', '--name', 'running', 'ro-app:latest', 'sleep', '3600']);
}

describe('read-only, proved: scans on read-only bind mounts, every API request recorded', function () {
  this.timeout(900_000);
  const hosts: Host[] = [];
  let overlay: Daemon | null = null;
  let cd: ContainerdStoreDaemon | null = null;

  before(async function () {
    if (process.getuid?.() !== 0 || !findExecutable('busybox')) this.skip();
    overlay = await startDaemon();
    await populate(overlay);
    cd = await startContainerdStore();
    await populate(cd);
    for (const [name, d, roots] of [
      ['overlay2', overlay, [{ flag: '--docker-root', path: overlay.root }]],
      ['containerd store', cd, [{ flag: '--docker-root', path: cd.root }, { flag: '--containerd-root', path: cd.containerd.root }]],
    ] as const) {
      const host: Host = { name, daemon: d, roots: [...roots], views: [], proxy: await recordingProxy(d.socket, '/tmp') };
      hosts.push(host);
      for (const r of roots) host.views.push(await bindReadOnly(r.path));
    }
  });

  after(async () => {
    // Unmount first, whatever failed: the daemons' stop must not meet our mounts.
    for (const h of hosts) {
      for (const v of h.views) await v.unmount().catch((e) => process.stderr.write(`unmount: ${String(e)}\n`));
      await h.proxy.close().catch(() => undefined);
    }
    await cd?.stop();
    await overlay?.stop();
  });

  const argsOf = (h: Host, ro: boolean): string[] => h.roots.flatMap((r, i) => [r.flag, ro ? h.views[i]!.path : r.path]);

  for (const which of ['overlay2', 'containerd store']) {
    it(`${which}: --report on the read-only roots through the proxy gives the writable roots' figures, no EROFS, GET and HEAD only`, async function () {
      const h = hosts.find((x) => x.name === which)!;
      // Is the view read-only? A write there must fail.
      await assert.rejects(import('node:fs/promises').then((fs) => fs.writeFile(`${h.views[0]!.path}/ldu-probe`, 'x')), /EROFS/);
      let last = '';
      for (let attempt = 0; attempt < 3; attempt++) {
        h.proxy.requests.length = 0;
        const writable = await runReport<Report>(['--format', 'json', ...argsOf(h, false), '--docker-host', h.daemon.host]);
        const ro = await runReport<Report>(['--format', 'json', ...argsOf(h, true), '--docker-host', h.proxy.host]);
        const again = await runReport<Report>(['--format', 'json', ...argsOf(h, false), '--docker-host', h.daemon.host]);
        for (const r of [writable, ro, again]) assert.equal(r.code, 0, r.stderr);
        assert.equal(ro.json!.apiUp, true, 'the API answered through the proxy');
        for (const e of ro.json!.errors) assert.doesNotMatch(`${e.path ?? ''} ${e.message}`, FORBIDDEN, JSON.stringify(e));
        assert.doesNotMatch(ro.stderr, FORBIDDEN);
        const methods = h.proxy.requests.map((q) => `${q.method} ${q.path}`);
        process.stdout.write(`      ${which}: report through the proxy, ${methods.length} requests:\n${methods.map((m) => `        ${m}\n`).join('')}`);
        assert.ok(methods.length > 0);
        for (const q of h.proxy.requests) assert.ok(q.method === 'GET' || q.method === 'HEAD', `${q.method} ${q.path}`);
        // The daemons write now and then (logs, BuildKit records): compare when the writable roots held still.
        if (JSON.stringify(figures(writable.json!)) !== JSON.stringify(figures(again.json!))) {
          last = 'the writable roots changed between the two reports';
          continue;
        }
        assert.deepEqual(figures(ro.json!), figures(writable.json!));
        process.stdout.write(`      ${which}: totals.disk.total ${ro.json!.totals.disk.total} on the read-only view = ${writable.json!.totals.disk.total} on the writable root\n`);
        return;
      }
      assert.fail(last);
    });

    it(`${which}: the agent (one scan, a scrape) on the read-only roots through the proxy: GET and HEAD only, no EROFS, the report's totals`, async function () {
      const h = hosts.find((x) => x.name === which)!;
      h.proxy.requests.length = 0;
      const agent = await startAgent([...argsOf(h, true), '--docker-host', h.proxy.host, '--scan.schedule', '0 0 1 1 *']);
      let body: string;
      try {
        body = await agent.scrapeAfter(0);
      } finally {
        await agent.stop();
      }
      const samples = parseExposition(body);
      assert.doesNotMatch(agent.stderr(), FORBIDDEN);
      for (const s of pick(samples, 'layerdu_scan_errors')) assert.ok(!FORBIDDEN.test(JSON.stringify(s.labels)));
      const report = await runReport<Report>(['--format', 'json', ...argsOf(h, false), '--docker-host', h.daemon.host]);
      const host = Object.fromEntries(pick(samples, 'layerdu_host_bytes').map((s) => [s.labels.category, s.value]));
      const want = report.json!.totals.disk;
      const categories = { imageLayers: 'image_layers', imageContent: 'image_content', containerLayers: 'container_layers', volumes: 'volumes', buildCache: 'build_cache' } as const;
      for (const [k, cat] of Object.entries(categories) as Array<[keyof typeof categories, string]>) {
        assert.equal(host[cat], want[k], `${cat}: the agent on the read-only view, the report on the writable root`);
      }
      const methods = h.proxy.requests.map((q) => `${q.method} ${q.path}`);
      process.stdout.write(`      ${which}: agent through the proxy, ${methods.length} requests:\n${methods.map((m) => `        ${m}\n`).join('')}      host bytes ${JSON.stringify(host)}\n`);
      assert.ok(methods.length > 0);
      for (const q of h.proxy.requests) assert.ok(q.method === 'GET' || q.method === 'HEAD', `${q.method} ${q.path}`);
    });
  }
});
