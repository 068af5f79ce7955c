import assert from 'node:assert/strict';
import { dotQuote, renderDot } from '../../agent/render/dot.js';
import { APP, L1, L2, L3, L4, LONELY, NGINX, WEB, report } from '../support/sharing-report.js';

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
