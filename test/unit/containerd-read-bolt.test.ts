import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Problem } from '../../collectors/lib/facts.js';
import { readBoltFile, type BoltFileIo, type FileStamp } from '../../collectors/stores/containerd/read-bolt.js';
import { fixture, previousVersion, unchangingFile } from './containerd-fixture.js';

// Two versions of one meta.db: the fixture (txid 196) and the same file before its last commit
// (its newest meta page spoilt, so that the current one is txid 195).
const NEW = fixture('meta.db');
const OLD = previousVersion(NEW);

interface Version {
  buf: Buffer;
  mtimeNs: bigint;
}

/**
 * A file that containerd rewrites as the script says: `during(n)` runs in the middle of the nth
 * readFile (from 1) and may switch the file to another version and say what that read got.
 */
class ScriptedFile implements BoltFileIo {
  current = 0;
  readonly log: string[] = [];
  private reads = 0;

  constructor(
    private readonly versions: Version[],
    private readonly during: (n: number, file: ScriptedFile) => Buffer | null = () => null,
  ) {}

  private get now(): Version {
    return this.versions[this.current]!;
  }

  async stat(): Promise<FileStamp> {
    this.log.push('stat');
    return { size: BigInt(this.now.buf.length), mtimeNs: this.now.mtimeNs, ctimeNs: this.now.mtimeNs, ino: 7n, dev: 1n };
  }

  async readFile(): Promise<Buffer> {
    this.log.push('read');
    return this.during(++this.reads, this) ?? Buffer.from(this.now.buf);
  }

  async readHead(_path: string, length: number): Promise<Buffer> {
    this.log.push('head');
    return Buffer.from(this.now.buf.subarray(0, length));
  }

  async pause(ms: number): Promise<void> {
    this.log.push(`pause ${ms}`);
  }
}

const ONE_READ = ['stat', 'read', 'head', 'stat'];

describe('containerd readBoltFile', () => {
  it('reads a file that holds still once, and parses it', async () => {
    const file = new ScriptedFile([{ buf: NEW, mtimeNs: 1n }]);
    const problems: Problem[] = [];
    const db = await readBoltFile('meta.db', problems, file);
    assert.deepEqual([db?.meta.txid, problems, file.log], [196n, [], ONE_READ]);
  });

  it('reads again when the file was rewritten while it was read (its mtime moved)', async () => {
    const file = new ScriptedFile([{ buf: OLD, mtimeNs: 1n }, { buf: NEW, mtimeNs: 2n }], (n, f) => {
      if (n === 1) f.current = 1;
      return null;
    });
    const problems: Problem[] = [];
    const db = await readBoltFile('meta.db', problems, file);
    assert.deepEqual([db?.meta.txid, problems], [196n, []]);
    assert.deepEqual(file.log, [...ONE_READ, 'pause 10', ...ONE_READ]);
  });

  it('reads again when a commit tore the copy and the mtime did not move (its meta pages did)', async () => {
    // The copy got the meta pages from before the commit and the data pages from after: it
    // parses (as txid 195), so only the second look at the meta pages can tell.
    const file = new ScriptedFile([{ buf: OLD, mtimeNs: 5n }, { buf: NEW, mtimeNs: 5n }], (n, f) => {
      if (n !== 1) return null;
      f.current = 1;
      return Buffer.concat([OLD.subarray(0, 8192), NEW.subarray(8192)]);
    });
    const problems: Problem[] = [];
    const db = await readBoltFile('meta.db', problems, file);
    assert.deepEqual([db?.meta.txid, problems], [196n, []]);
    assert.deepEqual(file.log, [...ONE_READ, 'pause 10', ...ONE_READ]);
  });

  it('gives up after eight reads of a file that changes each time: null and one problem', async () => {
    const file = new ScriptedFile([{ buf: OLD, mtimeNs: 1n }, { buf: NEW, mtimeNs: 2n }], (_n, f) => {
      f.current = 1 - f.current;
      return null;
    });
    const problems: Problem[] = [];
    assert.equal(await readBoltFile('/x/meta.db', problems, file), null);
    assert.deepEqual(problems, [{ path: '/x/meta.db', message: 'no whole copy in 8 reads; the last: the file changed while it was read' }]);
    assert.deepEqual(file.log.filter((e) => e.startsWith('pause')), ['pause 10', 'pause 20', 'pause 40', 'pause 80', 'pause 160', 'pause 320', 'pause 640']);
    assert.equal(file.log.filter((e) => e === 'read').length, 8);
  });

  it('outlasts a burst of commits: torn six times, whole at the seventh read', async () => {
    const file = new ScriptedFile([{ buf: OLD, mtimeNs: 1n }, { buf: NEW, mtimeNs: 2n }], (n, f) => {
      if (n < 7) f.current = 1 - f.current;
      return null;
    });
    const problems: Problem[] = [];
    const db = await readBoltFile('/x/meta.db', problems, file);
    assert.deepEqual(problems, []);
    assert.equal(db?.meta.txid, 195n); // six switches: back at the older version
    assert.equal(file.log.filter((e) => e === 'read').length, 7);
  });

  it('gives up on a file that holds still but does not parse: null and one problem', async () => {
    const problems: Problem[] = [];
    assert.equal(await readBoltFile('meta.db', problems, unchangingFile(NEW.subarray(0, 100000))), null);
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.path, 'meta.db');
    // Held still twice and parsed neither time: damaged, so no more reads.
    assert.match(problems[0]!.message, /^no whole copy in 2 reads; the last: bbolt: no valid meta page .*truncated/);
  });

  it('names a missing file at once, without reading again', async () => {
    const file = new ScriptedFile([{ buf: NEW, mtimeNs: 1n }]);
    file.stat = async () => {
      file.log.push('stat');
      throw Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
    };
    const problems: Problem[] = [];
    assert.equal(await readBoltFile('/x/meta.db', problems, file), null);
    assert.deepEqual([problems, file.log], [[{ path: '/x/meta.db', message: 'missing' }], ['stat']]);
  });

  it('reads a real file without touching it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'layerdu-bolt-'));
    try {
      const path = join(dir, 'meta.db');
      writeFileSync(path, NEW);
      const before = statSync(path, { bigint: true });
      const problems: Problem[] = [];
      const db = await readBoltFile(path, problems);
      const after = statSync(path, { bigint: true });
      assert.deepEqual([db?.meta.txid, problems], [196n, []]);
      assert.deepEqual([after.mtimeNs, after.ctimeNs, after.size], [before.mtimeNs, before.ctimeNs, before.size]);
      assert.ok(readFileSync(path).equals(NEW));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
