import assert from 'node:assert/strict';
import { blobKind, dotQuote, renderDot } from '../../agent/render/dot.js';
import {
  APP, B_APP, B_BASE, C_APP, C_NGINX, I_LONELY, L1, L2, L3, L4, LONELY, M_APP, M_NGINX, NGINX, UNHELD, UNLISTED, WEB,
  containerdReport, report,
} from '../support/sharing-report.js';

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
});

describe('renderDot on the containerd store: images point at their blobs too', () => {
  const q = (kind: string, id: string) => `"${kind}:${hex(id)}"`;
  const HELD = [M_NGINX, C_NGINX, B_BASE, M_APP, C_APP, B_APP, I_LONELY];

  it('one node per blob a listed image holds; none for blobs no listed image holds', () => {
    const dot = renderDot(containerdReport());
    for (const d of HELD) nodeLine(dot, `blob:${hex(d)}`);
    assert.equal(dot.split('\n').filter((l) => /^ {2}"blob:[0-9a-f]+" \[/.test(l)).length, HELD.length);
    for (const d of [UNHELD, UNLISTED]) assert.ok(!dot.includes(`blob:${hex(d)}`), `${d} is drawn`);
    // the layers, images and container are drawn as before
    assert.equal(dot.split('\n').filter((l) => /^ {2}"(image|layer|container):[0-9a-f]+" \[/.test(l)).length, 8);
  });

  it('labels a blob by short digest, kind and disk bytes', () => {
    const dot = renderDot(containerdReport());
    assert.match(nodeLine(dot, `blob:${hex(M_NGINX)}`), /label="555555555555 manifest\\n4\.0 KiB"/);
    assert.match(nodeLine(dot, `blob:${hex(C_NGINX)}`), /label="666666666666 config\\n4\.0 KiB"/);
    assert.match(nodeLine(dot, `blob:${hex(M_APP)}`), /label="888888888888 manifest\\n4\.0 KiB"/);
    assert.match(nodeLine(dot, `blob:${hex(C_APP)}`), /label="999999999999 config\\n8\.0 KiB"/);
    assert.match(nodeLine(dot, `blob:${hex(B_APP)}`), /label="ffffffffffff layer\\n100\.0 MiB"/);
    assert.match(nodeLine(dot, `blob:${hex(I_LONELY)}`), /label="000000000000 index\\n4\.0 KiB"/);
  });

  it('a blob two images hold is styled as a shared layer, with how many images hold it', () => {
    const dot = renderDot(containerdReport());
    const shared = nodeLine(dot, `blob:${hex(B_BASE)}`);
    assert.match(shared, /label="777777777777 layer\\n30\.0 MiB\\nshared by 2 images"/);
    assert.match(shared, /fillcolor="#fdd49e", color="#d94801", penwidth=2\.5, fontname="Helvetica-Bold"/);
    const own = nodeLine(dot, `blob:${hex(B_APP)}`);
    assert.doesNotMatch(own, /penwidth|shared|#fdd49e/);
  });

  it('each image points at each of its blobs once, dotted; the edges to a shared blob bold', () => {
    const dot = renderDot(containerdReport());
    const blobEdges = edges(dot).filter((e) => e.includes('"blob:'));
    assert.deepEqual(blobEdges.sort(), [
      `${q('image', NGINX)} -> ${q('blob', M_NGINX)}`,
      `${q('image', NGINX)} -> ${q('blob', C_NGINX)}`,
      `${q('image', NGINX)} -> ${q('blob', B_BASE)}`,
      `${q('image', APP)} -> ${q('blob', M_APP)}`,
      `${q('image', APP)} -> ${q('blob', C_APP)}`,
      `${q('image', APP)} -> ${q('blob', B_BASE)}`,
      `${q('image', APP)} -> ${q('blob', B_APP)}`,
      `${q('image', LONELY)} -> ${q('blob', I_LONELY)}`,
    ].sort());
    const line = (from: string, to: string) => dot.split('\n').find((l) => l.trimStart().startsWith(`${q('image', from)} -> ${q('blob', to)}`))!;
    assert.match(line(APP, B_BASE), /\[style="dotted", color="#d94801", penwidth=2\];$/);
    assert.match(line(APP, B_APP), /\[style="dotted", color="#756bb1"\];$/);
    // the layer edges are those of the classic graph
    assert.deepEqual(edges(dot).filter((e) => !e.includes('"blob:')), edges(renderDot(report())));
  });

  it('the title counts the blobs, and their bytes in what is on disk', () => {
    const dot = renderDot(containerdReport());
    // layers 390 MiB + 1.5 KiB, blobs 130 MiB + 24 KiB (the unheld ones not)
    assert.match(dot, /\\n3 images, 4 layers \(2 shared\), 7 blobs \(1 shared\): 520\.0 MiB on disk, /);
    assert.match(renderDot(report()), /\\n3 images, 4 layers \(2 shared\): 390\.0 MiB on disk, /);
  });

  it('blobs in the order of their images, an image\'s own by kind, whatever the order of the report', () => {
    const r = containerdReport();
    const dot = renderDot(r);
    const order = dot.split('\n').map((l) => /^ {2}"blob:([0-9a-f])/.exec(l)?.[1]).filter(Boolean);
    // images by unique bytes: app's manifest, config, layers by digest; lonely's index; nginx's own
    assert.deepEqual(order, ['8', '9', '7', 'f', '0', '5', '6']);
    assert.equal(renderDot({ ...r, content: [...r.content].reverse(), images: [...r.images].reverse() }), dot);
  });

  it('a classic-store report draws no blob, and blobs no listed image holds change nothing', () => {
    const classic = renderDot(report());
    assert.doesNotMatch(classic, /blob/);
    const r = containerdReport();
    assert.equal(renderDot({ ...report(), content: r.content.filter((b) => b.digest === UNHELD || b.digest === UNLISTED) }), classic);
  });

  it('leaving containers out leaves the blobs in', () => {
    const dot = renderDot(containerdReport(), { containers: false });
    assert.doesNotMatch(dot, /container:/);
    nodeLine(dot, `blob:${hex(B_BASE)}`);
  });

  it('blobKind: OCI\'s and Docker\'s media types', () => {
    const kinds: Array<[string | null, string]> = [
      ['application/vnd.oci.image.index.v1+json', 'index'],
      ['application/vnd.docker.distribution.manifest.list.v2+json', 'index'],
      ['application/vnd.oci.image.manifest.v1+json', 'manifest'],
      ['application/vnd.docker.distribution.manifest.v2+json', 'manifest'],
      ['application/vnd.oci.image.config.v1+json', 'config'],
      ['application/vnd.docker.container.image.v1+json', 'config'],
      ['application/vnd.oci.image.layer.v1.tar+gzip', 'layer'],
      ['application/vnd.oci.image.layer.v1.tar+zstd', 'layer'],
      ['application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', 'layer'],
      ['application/vnd.docker.image.rootfs.diff.tar.gzip', 'layer'],
      ['application/vnd.in-toto+json', 'blob'],
      [null, 'blob'],
    ];
    assert.deepEqual(kinds.map(([t]) => [t, blobKind(t)]), kinds);
  });
});
