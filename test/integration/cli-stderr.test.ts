// The CLI's stderr names each problem on one short line (issue 14): a path longer than 200
// characters is cut in the middle, a newline in a path or a message is written as `\n`; the
// JSON's errors[].path keeps the whole path.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Report } from '../../agent/model/report.js';
import { LINE_PATH_MAX } from '../../collectors/lib/raw-path.js';
import { lines, runReport } from '../support/oracles.js';

describe('stderr lines stay short; the JSON keeps the path', () => {
  let dir = '';
  let root = '';
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ldu-stderr-'));
    // A docker root 500 characters deep, a directory name with a newline in it on the way.
    root = path.join(dir, 'p'.repeat(250), `line\nbreak${'q'.repeat(240)}`, 'docker');
    await mkdir(path.join(root, 'image', 'overlay2', 'layerdb', 'sha256'), { recursive: true });
    await mkdir(path.join(root, 'overlay2'));
    await writeFile(path.join(root, 'image', 'overlay2', 'repositories.json'), 'not json\nat all');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('cuts the path in the middle to 200 characters on stderr, keeps it whole in errors[].path', async () => {
    const r = await runReport<Report>(['--format', 'json', '--docker-root', root, '--docker-host', 'unix:///nonexistent.sock']);
    assert.equal(r.code, 0, r.stderr);
    const file = path.join(root, 'image', 'overlay2', 'repositories.json');
    const e = r.json!.errors.find((x) => x.source === 'image-metadata');
    assert.ok(e, JSON.stringify(r.json!.errors));
    assert.equal(e.path, file, 'the JSON keeps the whole path');
    assert.ok(file.length > 500);
    const out = lines(r.stderr);
    process.stdout.write(`      stderr:\n${out.map((l) => `        ${l}\n`).join('')}`);
    assert.equal(out.length, r.json!.errors.length, 'one line a problem, a newline in the path or message none the less');
    const line = out.find((l) => l.startsWith('layerdu: image-metadata: '))!;
    const shown = line.slice('layerdu: image-metadata: '.length, line.indexOf(': unreadable'));
    assert.equal([...shown].length, LINE_PATH_MAX);
    assert.ok(shown.startsWith(`${dir}/ppp`), shown);
    assert.ok(shown.endsWith('/docker/image/overlay2/repositories.json'), shown);
    assert.match(shown, /…/);
    assert.match(line, /not json\\nat all/, 'the message on one line too');
  });
});
