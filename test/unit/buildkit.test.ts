import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseBolt } from '../../collectors/lib/bbolt.js';
import type { Problem } from '../../collectors/lib/facts.js';
import { extractBuildCacheIds, readBuildCacheIds } from '../../collectors/sources/buildkit.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/buildkit/', import.meta.url));

// Checked against `strings` on the files; the daemon's overlay2 held mpf2eb…, wivkrr… and xjf4w…
// (mpf2eb… is also a layerdb cache-id: BuildKit's committed layer became an image layer).
const PER_FILE: Record<string, string[]> = {
  'cache.db': [
    'g6z9er4ujiiw23711tjd71yde',
    'gsbezn6ahp0hcm2y8jnaln6xa',
    'pkpbdd4lfq5rqlwmtjb4y42hd',
    'tclw1bzcp6j809haflh7nvd8p',
    'vncwvfnfbtkd58aghndkomumv',
  ],
  'containerdmeta.db': [
    'g6z9er4ujiiw23711tjd71yde',
    'gsbezn6ahp0hcm2y8jnaln6xa',
    'wivkrr8r1biitgwe4piw82dbd',
    'xjf4w7ccl0icr4bs04qkiwd4f',
  ],
  'metadata_v2.db': [
    'g6z9er4ujiiw23711tjd71yde',
    'gsbezn6ahp0hcm2y8jnaln6xa',
    'pkpbdd4lfq5rqlwmtjb4y42hd',
    'tclw1bzcp6j809haflh7nvd8p',
    'wivkrr8r1biitgwe4piw82dbd',
    'xjf4w7ccl0icr4bs04qkiwd4f',
  ],
  'snapshots.db': [
    'g6z9er4ujiiw23711tjd71yde',
    'gsbezn6ahp0hcm2y8jnaln6xa',
    'mpf2eb29quihiunasblzq3uy7',
    'wivkrr8r1biitgwe4piw82dbd',
    'xjf4w7ccl0icr4bs04qkiwd4f',
  ],
};

const ALL = [...new Set(Object.values(PER_FILE).flat())].sort();

describe('buildkit', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), 'layerdu-buildkit-'));
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  for (const [file, ids] of Object.entries(PER_FILE)) {
    it(`extracts the ids of ${file}`, () => {
      const db = parseBolt(readFileSync(join(FIXTURES, file)));
      assert.deepEqual([...extractBuildCacheIds(db)].sort(), ids);
    });
  }

  it('reads every db of the directory', async () => {
    const errors: Problem[] = [];
    const ids = await readBuildCacheIds(FIXTURES, errors);
    assert.deepEqual(errors, []);
    assert.equal(ALL.length, 8);
    assert.deepEqual([...ids].sort(), ALL);
  });

  it('reports an unparsable db once and still reads the others', async () => {
    copyFileSync(join(FIXTURES, 'snapshots.db'), join(tmp, 'snapshots.db'));
    copyFileSync(join(FIXTURES, 'cache.db'), join(tmp, 'cache.db'));
    writeFileSync(join(tmp, 'broken.db'), Buffer.from('not a bolt file, just some text'.repeat(300)));
    writeFileSync(join(tmp, 'notes.txt'), 'zzzzzzzzzzzzzzzzzzzzzzzzz'); // not a *.db: ignored
    mkdirSync(join(tmp, 'dir.db')); // not a file: ignored
    const errors: Problem[] = [];
    const ids = await readBuildCacheIds(tmp, errors);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.path, join(tmp, 'broken.db'));
    assert.match(errors[0]?.message ?? '', /bbolt: no valid meta page/);
    assert.deepEqual([...ids].sort(), [...new Set([...PER_FILE['snapshots.db']!, ...PER_FILE['cache.db']!])].sort());
  });

  it('reports a torn copy of a real db', async () => {
    writeFileSync(join(tmp, 'metadata_v2.db'), readFileSync(join(FIXTURES, 'metadata_v2.db')).subarray(0, 12000));
    const errors: Problem[] = [];
    const ids = await readBuildCacheIds(tmp, errors);
    assert.equal(ids.size, 0);
    assert.equal(errors.length, 1);
    assert.match(errors[0]?.message ?? '', /truncated/);
  });

  it('treats a missing buildkit dir as no cache', async () => {
    const errors: Problem[] = [];
    assert.deepEqual(await readBuildCacheIds(join(tmp, 'nope'), errors), new Set());
    assert.deepEqual(errors, []);
  });
});
