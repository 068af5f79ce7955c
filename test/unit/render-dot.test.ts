import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Report } from '../../agent/model/report.js';
import { dotQuote, renderDot } from '../../agent/render/dot.js';

const MiB = 1024 * 1024;
const NGINX = `sha256:${'a'.repeat(64)}`;
const APP = `sha256:${'b'.repeat(64)}`;
const LONELY = `sha256:${'e'.repeat(64)}`;
const L1 = `sha256:${'1'.repeat(64)}`;
const L2 = `sha256:${'2'.repeat(64)}`;
const L3 = `sha256:${'3'.repeat(64)}`;
const L4 = `sha256:${'4'.repeat(64)}`;
const WEB = 'c'.repeat(64);
const NASTY_TAG = 'evil"repo\\x:1\n2';

// nginx and app share L1 (the base, 80 MiB) and L2 (10 MiB); app adds L3; lonely is L4 alone.
function report(): Report {
  const zero = { imageLayers: 0, containerLayers: 0, volumes: 0, logs: 0, buildCache: 0, orphans: 0, other: 0, total: 0 };
  return {
    dockerRoot: '/var/lib/docker',
    apiUp: true,
    driver: { name: 'overlay2', backingFs: 'ext4', dType: true, vfsFallback: false, reason: '' },
    filesystem: null,
    images: [
      {
        id: NGINX,
        tags: ['nginx:1.25', 'nginx:latest'],
        layers: [L1, L2],
        disk: { total: 90 * MiB, shared: 90 * MiB, unique: 0 },
        apparent: { total: 90 * MiB, shared: 90 * MiB, unique: 0 },
        wasted: { disk: 0, apparent: 0 },
        containers: 1,
      },
      {
        id: APP,
        tags: [NASTY_TAG],
        layers: [L1, L2, L3],
        disk: { total: 390 * MiB, shared: 90 * MiB, unique: 300 * MiB },
        apparent: { total: 380 * MiB, shared: 90 * MiB, unique: 290 * MiB },
        wasted: { disk: 3 * MiB, apparent: 3 * MiB },
        containers: 0,
      },
      {
        id: LONELY,
        tags: [],
        layers: [L4],
        disk: { total: 1536, shared: 0, unique: 1536 },
        apparent: { total: 1000, shared: 0, unique: 1000 },
        wasted: { disk: 0, apparent: 0 },
        containers: 0,
      },
    ],
    layers: [
      { chainId: L1, diffId: 'sha256:d1', cacheId: 'c1', disk: 80 * MiB, apparent: 80 * MiB, images: [NGINX, APP], containers: [WEB] },
      { chainId: L2, diffId: 'sha256:d2', cacheId: 'c2', disk: 10 * MiB, apparent: 10 * MiB, images: [NGINX, APP], containers: [WEB] },
      { chainId: L3, diffId: 'sha256:d3', cacheId: 'c3', disk: 300 * MiB, apparent: 290 * MiB, images: [APP], containers: [] },
      { chainId: L4, diffId: 'sha256:d4', cacheId: 'c4', disk: 1536, apparent: 1000, images: [LONELY], containers: [] },
    ],
    containers: [
      {
        id: WEB,
        name: '/web',
        imageId: NGINX,
        state: 'running',
        writable: { disk: 4 * MiB, apparent: 4 * MiB },
        init: { disk: 0, apparent: 0 },
        copiedUp: { disk: 2 * MiB, apparent: 2 * MiB },
        logs: 12 * 1024,
        logsApparent: 12 * 1024,
      },
    ],
    volumes: [],
    orphans: [],
    buildCache: { disk: 0, apparent: 0, dirs: 0 },
    totals: { disk: zero, apparent: zero, naiveVirtual: 0 },
    errors: [],
    scan: { startedAt: '2024-01-01T00:00:00Z', finishedAt: '2024-01-01T00:00:01Z', durationSeconds: 1, collectors: [], layersWalked: 4, layersReused: 0 },
  };
}

/** The attribute list of the statement for node `id` (a node statement, not an edge). */
function nodeLine(dot: string, id: string): string {
  const line = dot.split('\n').find((l) => l.trimStart().startsWith(`"${id}" [`));
  assert.ok(line, `no node ${id} in:\n${dot}`);
  return line;
}

function edges(dot: string): string[] {
  return dot
    .split('\n')
    .map((l) => /^\s*("[^"]*") -> ("[^"]*")/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => `${m[1]} -> ${m[2]}`);
}

const hex = (id: string) => id.replace(/^sha256:/, '');

describe('renderDot', () => {
  it('is a digraph with one node per listed image, per layer they hold, and per container', () => {
    const dot = renderDot(report());
    assert.match(dot, /^\/\/ .*\ndigraph layerdu \{\n/);
    assert.ok(dot.endsWith('}\n'));
    for (const id of [NGINX, APP, LONELY]) nodeLine(dot, `image:${hex(id)}`);
    for (const id of [L1, L2, L3, L4]) nodeLine(dot, `layer:${hex(id)}`);
    nodeLine(dot, `container:${WEB}`);
    // every node statement is for one of those 8 nodes
    assert.equal(dot.split('\n').filter((l) => /^ {2}"(image|layer|container):[0-9a-f]+" \[/.test(l)).length, 8);
  });

  it('images point at their top layer, each layer at the one beneath it, containers at their image', () => {
    const e = edges(renderDot(report()));
    const q = (kind: string, id: string) => `"${kind}:${hex(id)}"`;
    assert.deepEqual(
      e.sort(),
      [
        `${q('container', WEB)} -> ${q('image', NGINX)}`,
        `${q('image', NGINX)} -> ${q('layer', L2)}`,
        `${q('image', APP)} -> ${q('layer', L3)}`,
        `${q('image', LONELY)} -> ${q('layer', L4)}`,
        `${q('layer', L2)} -> ${q('layer', L1)}`,
        `${q('layer', L3)} -> ${q('layer', L2)}`,
      ].sort(),
      'one edge each, no duplicates for the shared path',
    );
  });

  it('labels images by tag with unique and total bytes in IEC units, untagged ones by short id', () => {
    const dot = renderDot(report());
    assert.match(nodeLine(dot, `image:${hex(NGINX)}`), /label="nginx:1\.25\\nnginx:latest\\nunique 0 B \/ total 90\.0 MiB"/);
    assert.match(nodeLine(dot, `image:${hex(APP)}`), /\\nunique 300\.0 MiB \/ total 390\.0 MiB\\nwasted 3\.0 MiB"/);
    assert.match(nodeLine(dot, `image:${hex(LONELY)}`), /label="<none> eeeeeeeeeeee\\nunique 1\.5 KiB \/ total 1\.5 KiB"/);
  });

  it('labels layers by short chain id and size; shared ones stand out with how many images share them', () => {
    const dot = renderDot(report());
    const l1 = nodeLine(dot, `layer:${hex(L1)}`);
    assert.match(l1, /label="111111111111\\n80\.0 MiB\\nshared by 2 images"/);
    assert.match(l1, /penwidth=2\.5/);
    assert.match(l1, /fillcolor="#fdd49e"/);
    const l3 = nodeLine(dot, `layer:${hex(L3)}`);
    assert.match(l3, /label="333333333333\\n300\.0 MiB"\]/);
    assert.doesNotMatch(l3, /penwidth|shared/);
    assert.match(dot, /"layer:2{64}" -> "layer:1{64}" \[color="#d94801", penwidth=2\]/, 'the shared path is bold');
  });

  it('labels containers by name without the slash, with writable, copied-up and log bytes', () => {
    const dot = renderDot(report());
    assert.match(nodeLine(dot, `container:${WEB}`), /label="web\\nrunning, writable 4\.0 MiB\\ncopied up 2\.0 MiB\\nlogs 12\.0 KiB"/);
  });

  it('leaves containers out when asked', () => {
    const dot = renderDot(report(), { containers: false });
    assert.doesNotMatch(dot, /container:/);
  });

  it('escapes quotes, backslashes and newlines so no name can break out of its string', () => {
    assert.equal(dotQuote('a"b'), '"a\\"b"');
    assert.equal(dotQuote('a\\N'), '"a\\\\N"', 'no Graphviz escape sneaks through');
    assert.equal(dotQuote('x\ny', 'z'), '"x\ufffdy\\nz"');
    assert.equal(dotQuote('ends with \\'), '"ends with \\\\"');
    const dot = renderDot(report());
    assert.ok(nodeLine(dot, `image:${hex(APP)}`).includes('label="evil\\"repo\\\\x:1\ufffd2\\n'));
    // outside quoted strings, no raw newline inside a statement: each statement is one line
    for (const l of dot.split('\n')) {
      const stripped = l.replace(/"(?:[^"\\]|\\.)*"/g, '""');
      assert.ok(!stripped.replace(/""/g, '').includes('"'), `a stray quote: ${l}`);
    }
  });

  it('is deterministic whatever the order of the report', () => {
    const r = report();
    const shuffled = { ...r, images: [...r.images].reverse(), layers: [...r.layers].reverse() };
    assert.equal(renderDot(shuffled), renderDot(r));
  });

  it('draws an empty host as a valid graph', () => {
    const r = { ...report(), images: [], layers: [], containers: [] };
    const dot = renderDot(r);
    assert.match(dot, /0 images, 0 layers \(0 shared\)/);
  });

  it('dot accepts it without a warning, and the names come out as written', function () {
    if (!existsSync('/usr/bin/dot')) this.skip();
    const r = spawnSync('/usr/bin/dot', ['-Tsvg'], { input: renderDot(report()), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.ok(r.stdout.includes('>evil&quot;repo\\x:1\ufffd2</text>'), r.stdout);
    assert.ok(r.stdout.includes('>shared by 2 images</text>'));
    const empty = spawnSync('/usr/bin/dot', ['-Tsvg'], { input: renderDot({ ...report(), images: [], layers: [], containers: [] }), encoding: 'utf8' });
    assert.equal(empty.status, 0, empty.stderr);
    assert.equal(empty.stderr, '');
  });
});
