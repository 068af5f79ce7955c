// Owners on a real daemon of its own: a compose-like project "shop" (two services sharing one
// image built for them, a named volume used by db) beside one unrelated container on the base
// image. The owner's figures are checked against its containers' own figures and du, and
// `imagesExclusive` against what removing the project (containers, image, volume) frees.
import assert from 'node:assert/strict';
import { statfsSync } from 'node:fs';
import * as path from 'node:path';
import type { Report } from '../../agent/model/report.js';
import { startAgent, value, parseExposition } from '../support/agent-process.js';
import { findExecutable, makeBaseImage, startDaemon, type Daemon } from '../support/dockerd.js';
import { buildClassic, logFiles, settle, type FixtureImage } from '../support/fixture-host.js';
import { reportJson } from '../support/fixture-report.js';
import { duB1, duB1Each, duB1Excluding } from '../support/oracles.js';

const KiB = 1024;
const PROJECT = 'com.docker.compose.project';
const SERVICE = 'com.docker.compose.service';
const VOLUME = 'shop_pgdata';

describe('owners on a real daemon: a compose project and an unrelated container', function () {
  this.timeout(600_000);
  let d: Daemon | null = null;
  let shopImage: FixtureImage;
  const ids: Record<'web' | 'db' | 'lone', string> = { web: '', db: '', lone: '' };

  /** Runs a container to its end and waits for its log to settle; returns its id. */
  async function runToEnd(args: string[], script: string): Promise<string> {
    const id = (await d!.docker(['create', ...args, 'sh', '-c', script])).trim();
    await d!.docker(['start', '-a', id]);
    await settle(path.join(d!.root, 'containers', id, `${id}-json.log`));
    return id;
  }

  before(async function () {
    if (process.getuid?.() !== 0) this.skip();
    for (const tool of ['dockerd', 'busybox', 'du']) if (!findExecutable(tool)) this.skip();
    d = await startDaemon();
    await makeBaseImage(d, 'base:latest');
    shopImage = await buildClassic(d, 'shop:latest', 'FROM base:latest\nRUN head -c 2097152 /dev/urandom > /app.bin\n');
    await d.docker(['volume', 'create', VOLUME]);
    const shop = (service: string) => ['--label', `${PROJECT}=shop`, '--label', `${SERVICE}=${service}`, '--name', `shop-${service}-1`];
    const lines = (what: string, n: number) => `i=0; while [ $i -lt ${n} ]; do echo ${what} line $i; i=$((i+1)); done`;
    ids.web = await runToEnd([...shop('web'), 'shop:latest'], `head -c 300000 /dev/urandom > /w.bin; ${lines('web', 2000)}`);
    ids.db = await runToEnd(
      [...shop('db'), '-v', `${VOLUME}:/var/lib/db`, 'shop:latest'],
      `head -c 500000 /dev/urandom > /var/lib/db/data; head -c 100000 /dev/urandom > /db.bin; ${lines('db', 1000)}`,
    );
    ids.lone = await runToEnd(['--name', 'lone', 'base:latest'], `head -c 50000 /dev/urandom > /x.bin; ${lines('lone', 10)}`);
  });

  after(async function () {
    if (d) await d.stop();
  });

  /** A report with `du -sB1 -x` of the whole root taken before and after it, once they agree. */
  async function reportAndDu(): Promise<{ rep: Report; du: number }> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const before = await duB1Excluding(d!.root, []);
      const rep = (await reportJson(['--docker-root', d!.root, '--docker-host', d!.host, '--owner.label', SERVICE])).json;
      if ((await duB1Excluding(d!.root, [])) === before) return { rep, du: before };
    }
    throw new Error('the docker root kept changing during the report');
  }

  it('the agent exports layerdu_owner_bytes for every scope, --owner.label keys included', async function () {
    const agent = await startAgent(['--docker-root', d!.root, '--docker-host', d!.host, '--owner.label', SERVICE]);
    try {
      const samples = parseExposition(await agent.scrapeAfter(0));
      const rep = (await reportJson(['--docker-root', d!.root, '--docker-host', d!.host, '--owner.label', SERVICE])).json;
      const shop = rep.owners.find((o) => o.kind === 'compose-project')!;
      const scopes = { writable: 'writable', logs: 'logs', volumes: 'volumes', images_exclusive: 'imagesExclusive', images_shared: 'imagesShared' } as const;
      for (const [scope, key] of Object.entries(scopes)) {
        assert.equal(value(samples, 'layerdu_owner_bytes', { kind: 'compose-project', name: 'shop', scope }), shop.disk[key], scope);
      }
      assert.ok(value(samples, 'layerdu_owner_bytes', { kind: 'label', name: `${SERVICE}=db`, scope: 'volumes' }) > 0);
    } finally {
      await agent.stop();
    }
  });

  it("sums the project's containers and volume, and frees imagesExclusive when it is removed", async function () {
    const { rep, du: before } = await reportAndDu();
    const compose = rep.owners.filter((o) => o.kind === 'compose-project');
    assert.equal(compose.length, 1, JSON.stringify(rep.owners));
    const shop = compose[0]!;
    assert.equal(shop.name, 'shop');
    assert.deepEqual(shop.containers, [ids.web, ids.db].sort());
    assert.deepEqual(shop.services, { [ids.web]: 'web', [ids.db]: 'db' });
    // --owner.label com.docker.compose.service: one owner per service; the lone container has none.
    assert.deepEqual(
      rep.owners.filter((o) => o.kind === 'label').map((o) => [o.name, o.containers]),
      [[`${SERVICE}=db`, [ids.db]], [`${SERVICE}=web`, [ids.web]]],
    );

    const mine = rep.containers.filter((c) => c.id === ids.web || c.id === ids.db);
    assert.equal(shop.disk.writable, mine.reduce((s, c) => s + c.writable.disk + c.init.disk, 0), 'writable: Σ writable + init');
    assert.equal(shop.disk.logs, mine.reduce((s, c) => s + c.logs, 0), 'logs: Σ logs');
    const logs = [...(await logFiles(d!.root, ids.web)), ...(await logFiles(d!.root, ids.db))];
    assert.equal(shop.disk.logs, await duB1Each(logs), 'logs vs du -sB1 of the json-file logs');
    const volumeDu = await duB1(path.join(d!.root, 'volumes', VOLUME, '_data'));
    assert.equal(shop.disk.volumes, volumeDu, 'volumes vs du -sB1 of the volume');
    assert.ok(volumeDu >= 500_000);
    // shop's own layer is exclusive; base's layer is the lone container's too: shared.
    const layer = (chainId: string) => rep.layers.find((l) => l.chainId === chainId)!;
    assert.equal(shop.disk.imagesExclusive, layer(shopImage.chainIds[1]!).disk);
    assert.equal(shop.disk.imagesShared, layer(shopImage.chainIds[0]!).disk);
    assert.ok(shop.disk.imagesExclusive >= 2 * 1024 * KiB);

    // Remove the project as `docker compose down -v --rmi all` would, and measure what went.
    await d!.docker(['rm', '-f', ids.web, ids.db]);
    await d!.docker(['rmi', 'shop:latest']);
    await d!.docker(['volume', 'rm', VOLUME]);
    const after = await duB1Excluding(d!.root, []);
    const freed = before - after;
    const counted = shop.disk.writable + shop.disk.logs + shop.disk.volumes + shop.disk.imagesExclusive;
    const noise = freed - counted;
    // What removing frees beyond the owner's figures is metadata, which the report counts in
    // `other` (measured on ext4, 4 KiB blocks, every entry below one block: 66 blocks, 264 KiB):
    // - per container, 25 blocks: containers/<id>/ but its log (the directory, config.v2.json,
    //   hostconfig.json, hostname, hosts, resolv.conf, resolv.conf.hash, checkpoints/, mounts/: 9),
    //   layerdb/mounts/<id>/ (the directory, mount-id, init-id, parent: 4), and for its writable
    //   and -init directories what lies beside diff/ (the directory, link, lower, work/, work/work/:
    //   5 each) and their l/ symlinks (1 each);
    // - for the image, 15 to 16 blocks: its layerdb/sha256/<chain>/ entry (the directory, cache-id,
    //   diff, parent, size, tar-split.json.gz: 6), imagedb content and metadata/ (parent,
    //   lastUpdated: 4), its layer directory beside diff/ (up to 5) and its l/ symlink (1);
    // - the volume's own directory around _data (1).
    // Never negative: every byte the figures claim is freed.
    const block = statfsSync(d!.root).bsize;
    const bound = (2 * 25 + 16 + 1) * block;
    process.stderr.write(`      owners e2e: freed ${freed}, counted ${counted}, metadata noise ${noise} (bound ${bound})\n`);
    assert.ok(noise >= 0 && noise <= bound, `freed ${freed} - counted ${counted} = ${noise}: not within [0, ${bound}]`);

    const rest = (await reportJson(['--docker-root', d!.root, '--docker-host', d!.host])).json;
    assert.deepEqual(rest.owners, [], 'nothing is left of the project');
    assert.equal(rest.containers.length, 1);
  });
});
