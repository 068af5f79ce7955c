// renderDot's output through Graphviz itself (spawns /usr/bin/dot); the rest of renderDot is in unit.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { renderDot } from '../../agent/render/dot.js';
import { containerdReport, report } from '../support/sharing-report.js';

describe('renderDot through dot', () => {
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

  it('the containerd store\'s graph, blobs and all, goes through dot without a warning', function () {
    if (!existsSync('/usr/bin/dot')) this.skip();
    const r = spawnSync('/usr/bin/dot', ['-Tsvg'], { input: renderDot(containerdReport()), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.ok(r.stdout.includes('>777777777777 layer</text>'), r.stdout);
    assert.equal((r.stdout.match(/>shared by 2 images<\/text>/g) ?? []).length, 3, 'two shared layers and one shared blob');
  });
});
