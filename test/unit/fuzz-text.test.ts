// Fuzzing the parsers of the docker root's text and JSON files, of find's output and of /proc:
// arbitrary strings and bytes, JSON shaped like the real files (so the fuzzer gets past the first
// check), and mutations of the recorded root's own files. Each parser's contract is in CONTRACTS.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseSysAdmin } from '../../collectors/host/capabilities.js';
import { parseSuperblock } from '../../collectors/host/dtype.js';
import { mountFor, parseMountinfo } from '../../collectors/host/filesystem.js';
import { labelsOf, parseContainerConfig } from '../../collectors/sources/containers.js';
import { isPodLogFile, podLogDir } from '../../collectors/sources/pod-logs.js';
import { parseImageConfig, parseRepositories } from '../../collectors/stores/graphdriver/imagedb.js';
import { parseLayerEntry } from '../../collectors/stores/graphdriver/layerdb.js';
import { parseConfigDiffIds, parseTargetDoc } from '../../collectors/stores/containerd/manifests.js';
import { FindRecordParser, parseFindError, recordName } from '../../collectors/walk/find-records.js';
import { opaqueDirOf, tarSplitName } from '../../collectors/walk/opaque-records.js';
import { gunzipSync } from 'node:zlib';
import { K8S_CONTAINER_NAME, K8S_POD_NAME, K8S_POD_NAMESPACE, K8S_POD_UID } from '../../collectors/lib/labels.js';
import { mayThrow, mustNotThrow, printTally, recordedRootFiles, runs, textMutations } from './fuzz-support.js';

// Which parsers may throw (their caller catches and names the file) and which never may.
const CONTRACTS = {
  parseLayerEntry: 'never throws; every bad field a problem',
  parseImageConfig: 'throws a named Error (readImages: "image config skipped")',
  parseRepositories: 'throws a named Error (readImages: "unreadable, images shown untagged")',
  parseContainerConfig: 'throws a named Error (readContainers: "container skipped")',
  parseTargetDoc: 'throws a named Error (containerd images: "manifest unreadable")',
  parseConfigDiffIds: 'throws a named Error (containerd images: "config unreadable")',
  tarSplitName: 'throws a named Error (walk-dirs: "opaque directories unreadable")',
  opaqueDirOf: 'never throws',
  parseMountinfo: 'never throws',
  mountFor: 'never throws',
  parseSuperblock: 'never throws',
  parseSysAdmin: 'never throws',
  podLogDir: 'never throws',
  FindRecordParser: 'throws a named Error (find-walk: the walk is broken and named)',
  parseFindError: 'never throws',
} as const;

const hex = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: n, maxLength: n });
const digest = fc.oneof(hex(64).map((h) => `sha256:${h}`), hex(63).map((h) => `sha256:${h}`), fc.string());
/** A JSON value where a field of a given type belongs: that type, or something else. */
const junk = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }), fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }));
const json = (a: fc.Arbitrary<unknown>) => a.map((v) => JSON.stringify(v) ?? 'null');

let files = new Map<string, Buffer>();
before(async () => {
  files = await recordedRootFiles((p) => /imagedb\/content\/sha256\/|repositories\.json$|config\.v2\.json$|hostconfig\.json$|tar-split\.json\.gz$|layerdb\/sha256\/[0-9a-f]+\/(diff|cache-id|size|parent)$/.test(p));
});
const real = (re: RegExp): string[] => [...files].filter(([p]) => re.test(p)).map(([, b]) => b.toString('utf8'));
/** Real texts mutated, and structured and arbitrary ones. */
const inputs = (re: RegExp, shaped: fc.Arbitrary<string>): fc.Arbitrary<string> => {
  const texts = real(re);
  assert.ok(texts.length > 0, `no recorded file matches ${re}`);
  return fc.oneof(fc.constantFrom(...texts).chain(textMutations), shaped, json(fc.jsonValue()), fc.string());
};

describe('fuzz: text and JSON parsers', function () {
  this.timeout(20_000);
  after(() => printTally('text and JSON parsers', Object.keys(CONTRACTS)));

  it('layerdb entries: never throw, and every bad field is a problem', () => {
    const field = fc.oneof(fc.constant(null), digest, fc.string(), fc.nat().map(String), fc.constant('a'.repeat(25)));
    fc.assert(
      fc.property(fc.record({ diff: field, cacheId: field, size: field, parent: field }), (f) => {
        const { layer, problems } = mustNotThrow('parseLayerEntry', () => parseLayerEntry('sha256:x', f));
        // What is kept is valid; what is not valid is named.
        if (layer.cacheId === null) assert.ok(problems.some((p) => p.startsWith('cache-id')));
        if (!/^sha256:[0-9a-f]{64}$/.test(layer.diffId)) assert.ok(problems.some((p) => p.startsWith('diff')));
        if (f.size !== null && layer.size === null) assert.ok(problems.includes('size is not a number'));
        if (f.parent?.trim() && layer.parent === null) assert.ok(problems.includes('parent is not a sha256 digest'));
      }),
      runs(400),
    );
  });

  it('imagedb configs (rootfs.diff_ids): a named Error or valid diff ids', () => {
    const shaped = json(fc.record({ rootfs: fc.oneof(fc.record({ type: fc.constant('layers'), diff_ids: fc.oneof(fc.array(digest, { maxLength: 4 }), junk) }), junk), created: junk }, { requiredKeys: [] }));
    fc.assert(
      fc.property(inputs(/imagedb\/content\//, shaped), (text) => {
        for (const [name, parse] of [['parseImageConfig', (t: string) => parseImageConfig(t).diffIds], ['parseConfigDiffIds', parseConfigDiffIds]] as const) {
          const ids = mayThrow(name, () => parse(text));
          if (ids !== null) assert.ok(ids.every((d) => /^sha256:[0-9a-f]{64}$/.test(d)));
        }
      }),
      runs(500),
    );
  });

  it('repositories.json: a named Error or tags and digests that are strings', () => {
    const refs = fc.dictionary(fc.string(), fc.oneof(digest, junk), { maxKeys: 4 });
    const shaped = json(fc.record({ Repositories: fc.oneof(fc.dictionary(fc.string(), fc.oneof(refs, junk), { maxKeys: 3 }), junk) }, { requiredKeys: [] }));
    fc.assert(
      fc.property(inputs(/repositories\.json$/, shaped), (text) => {
        const byImage = mayThrow('parseRepositories', () => parseRepositories(text));
        for (const r of byImage?.values() ?? []) assert.ok([...r.tags, ...r.digests].every((t) => typeof t === 'string'));
      }),
      runs(400),
    );
  });

  it('config.v2.json: a named Error, or a container with a valid id and string labels', () => {
    const mount = fc.record({ Type: fc.oneof(fc.constant('volume'), junk), Name: junk, Driver: junk }, { requiredKeys: [] });
    const state = fc.record({ Running: junk, Paused: junk, Dead: junk, RemovalInProgress: junk, StartedAt: fc.oneof(fc.constant('0001-01-01T00:00:00Z'), junk) }, { requiredKeys: [] });
    const shaped = json(
      fc.record(
        {
          ID: fc.oneof(hex(64), junk),
          Name: fc.oneof(fc.string().map((s) => `/${s}`), junk),
          Image: fc.oneof(digest, junk),
          State: fc.oneof(state, junk),
          MountPoints: fc.oneof(fc.dictionary(fc.string(), fc.oneof(mount, junk), { maxKeys: 3 }), junk),
          Config: fc.oneof(fc.record({ Labels: fc.oneof(fc.dictionary(fc.string(), junk, { maxKeys: 3 }), junk) }), junk),
        },
        { requiredKeys: [] },
      ),
    );
    fc.assert(
      fc.property(inputs(/config\.v2\.json$/, shaped), (text) => {
        const c = mayThrow('parseContainerConfig', () => parseContainerConfig(text));
        if (c === null) return;
        assert.match(c.id, /^[0-9a-f]{64}$/);
        assert.equal(typeof c.name, 'string');
        assert.ok(Object.values(c.labels).every((v) => typeof v === 'string'));
        assert.deepEqual(c.volumes, [...new Set(c.volumes)].sort());
        assert.deepEqual(labelsOf(c.labels), c.labels);
      }),
      runs(500),
    );
  });

  it('containerd manifests and indexes: a named Error or descriptors with valid digests', () => {
    const desc = fc.oneof(fc.record({ digest, mediaType: junk }, { requiredKeys: [] }), junk);
    const shaped = json(
      fc.record(
        {
          mediaType: fc.oneof(fc.constantFrom('application/vnd.oci.image.index.v1+json', 'application/vnd.oci.image.manifest.v1+json'), junk),
          manifests: fc.oneof(fc.array(desc, { maxLength: 3 }), junk),
          config: desc,
          layers: fc.oneof(fc.array(desc, { maxLength: 3 }), junk),
        },
        { requiredKeys: [] },
      ),
    );
    fc.assert(
      fc.property(fc.oneof(shaped, json(fc.jsonValue()), fc.string()), fc.option(fc.string()), (text, mediaType) => {
        const doc = mayThrow('parseTargetDoc', () => parseTargetDoc(text, mediaType));
        if (doc === null) return;
        const ds = doc.kind === 'index' ? doc.manifests : [doc.config, ...doc.layers];
        assert.ok(ds.every((d) => /^sha256:[0-9a-f]{64}$/.test(d.digest)));
      }),
      runs(400),
    );
  });

  it("tar-split lines and opaque markers: a named Error or a name; opaqueDirOf never throws", () => {
    const lines = [...files].filter(([p]) => p.endsWith('tar-split.json.gz')).flatMap(([, b]) => gunzipSync(b).toString('utf8').split('\n'));
    const name = fc.oneof(fc.constantFrom('.wh..wh..opq', 'd/.wh..wh..opq', './a/b/.wh..wh..opq', 'a/.wh.x'), fc.string());
    const shaped = json(fc.record({ type: fc.oneof(fc.constant(1), junk), name: fc.oneof(name, junk), name_raw: fc.oneof(fc.base64String(), junk), size: junk }, { requiredKeys: [] }));
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom(...lines).chain(textMutations), shaped, fc.string().map((s) => `{"type":1${s}`), fc.string()), (line) => {
        const n = mayThrow('tarSplitName', () => tarSplitName(line));
        if (n === null) return;
        const dir = mustNotThrow('opaqueDirOf', () => opaqueDirOf(n));
        // A name that is no UTF-8 may come as bytes (both signatures of tarSplitName read here).
        const text: string = typeof n === 'string' ? n : (n as unknown as Buffer).toString('latin1');
        if (dir !== null) assert.equal(text.split('/').filter((p) => p !== '' && p !== '.').at(-1), '.wh..wh..opq');
      }),
      runs(500),
    );
  });

  it('mountinfo: never throws; a well-formed line reads back exactly', () => {
    const escape = (s: string) => s.replace(/[\\ \t\n]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
    const word = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !/[\\ \t\n\r\v\f\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]/.test(s));
    const path = fc.array(fc.string({ maxLength: 6 }), { maxLength: 4 }).map((p) => `/${p.join('/')}`);
    const line = fc.record({ id: fc.nat(), parent: fc.nat(), dev: fc.tuple(fc.nat(255), fc.nat(255)).map(([a, b]) => `${a}:${b}`), root: path, mountpoint: path, opts: word.filter((w) => w !== '-'), optional: fc.array(word.filter((w) => w !== '-'), { maxLength: 2 }), fstype: word, source: fc.string({ minLength: 1, maxLength: 12 }), superopts: word });
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 4 }), fc.string(), (ls, noise) => {
        const text = ls.map((l) => [l.id, l.parent, l.dev, escape(l.root), escape(l.mountpoint), l.opts, ...l.optional, '-', l.fstype, escape(l.source), l.superopts].join(' ')).join('\n');
        const parsed = mustNotThrow('parseMountinfo', () => parseMountinfo(text));
        assert.deepEqual(parsed.map((m) => [m.mountId, m.device, m.root, m.mountpoint, m.fstype, m.source, m.superOptions]), ls.map((l) => [l.id, l.dev, l.root, l.mountpoint, l.fstype, l.source, l.superopts]));
        const garbled = mustNotThrow('parseMountinfo', () => parseMountinfo(`${noise}\n${text.slice(0, noise.length)}`));
        mustNotThrow('mountFor', () => mountFor(garbled, `/${noise}`));
      }),
      runs(400),
    );
  });

  it('superblocks, /proc status and pod log labels: never throw', () => {
    const ext = (b: Buffer) => (b.length >= 1124 ? (b.writeUInt16LE(0xef53, 1024 + 0x38), b) : b);
    const xfs = (b: Buffer) => (b.length >= 4 ? (b.write('XFSB', 0, 'latin1'), b) : b);
    const block = fc.uint8Array({ maxLength: 4096 }).chain((a) => fc.constantFrom((b: Buffer) => b, ext, xfs).map((f) => f(Buffer.from(a))));
    const label = fc.oneof(fc.constantFrom('', '.', '..', 'a/b', 'ns'), fc.string());
    fc.assert(
      fc.property(block, fc.string(), fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEFxX ') }), label, label, label, label, (sb, status, cap, ns, pod, uid, name) => {
        const s = mustNotThrow('parseSuperblock', () => parseSuperblock(sb));
        assert.ok(s.fs === 'unknown' ? s.dType === null : typeof s.dType === 'boolean');
        mustNotThrow('parseSysAdmin', () => parseSysAdmin(status));
        mustNotThrow('parseSysAdmin', () => parseSysAdmin(`Name:\tx\nCapEff:\t${cap}\n`));
        const dir = mustNotThrow('podLogDir', () => podLogDir({ [K8S_POD_NAMESPACE]: ns, [K8S_POD_NAME]: pod, [K8S_POD_UID]: uid, [K8S_CONTAINER_NAME]: name }));
        if (dir !== null) assert.ok(!dir.split('/').some((p) => p === '..' || p === '.' || p === ''));
        assert.equal(typeof isPodLogFile(name), 'boolean');
      }),
      runs(400),
    );
  });

  it("find's records: what find prints reads back at any chunking; anything else is a named Error or records made of their own bytes", () => {
    const record = fc.record({
      type: fc.constantFrom('f', 'd', 'l', 'c', 'b', 'p', 's', 'U', '?'),
      nums: fc.array(fc.oneof(fc.nat(), fc.maxSafeNat()), { minLength: 6, maxLength: 6 }),
      name: fc.uint8Array({ maxLength: 20 }).map((a) => Buffer.from(a.filter((b) => b !== 0))),
    });
    const bytes = (r: { type: string; nums: number[]; name: Buffer }) => Buffer.concat([Buffer.from(`${r.type} ${r.nums.join(' ')} `), r.name, Buffer.from([0])]);
    // find's own tokens (numbers, spaces, NULs, type letters) most of the time, any byte else.
    const token = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(' ', ' ', '\0', 'f', 'fx', '007', '1', '42') }, fc.nat(255).map((b) => String.fromCharCode(b)));
    const junkBytes = fc.array(token, { maxLength: 30 }).map((a) => Buffer.from(a.join(''), 'latin1'));
    const output = fc.oneof(
      fc.array(record, { maxLength: 6 }).map((rs) => ({ rs, buf: Buffer.concat(rs.map(bytes)) })),
      fc.tuple(fc.array(record, { maxLength: 4 }), junkBytes).map(([rs, j]) => ({ rs: null, buf: Buffer.concat([...rs.map(bytes), j]) })),
      // Records find would print, each byte of one dropped, doubled or replaced by a NUL, a space or an x.
      fc.tuple(fc.array(record, { minLength: 1, maxLength: 4 }), fc.nat(), fc.constantFrom('drop', 'double', '\0', ' ', 'x')).map(([rs, at, edit]) => {
        const whole = Buffer.concat(rs.map(bytes));
        const i = at % whole.length;
        const by = edit === 'drop' ? Buffer.alloc(0) : edit === 'double' ? whole.subarray(i, i + 2) : Buffer.from(edit, 'latin1');
        return { rs: null, buf: Buffer.concat([whole.subarray(0, i), by, whole.subarray(i + 1)]) };
      }),
    );
    fc.assert(
      fc.property(output, fc.array(fc.nat(), { maxLength: 5 }), ({ rs, buf }, cuts) => {
        const at = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
        const chunks = [0, ...at].map((c, i) => buf.subarray(c, [...at, buf.length][i]));
        const parser = new FindRecordParser();
        const got: Array<{ type: string; nums: number[]; name: Buffer; raw: Buffer }> = [];
        const read = () => {
          for (const c of chunks) {
            parser.push(c);
            parser.drain((r) => {
              assert.ok(r.nameStart <= r.nameEnd, `a name that starts after its end: ${JSON.stringify(r.bytes.toString('latin1'))}`);
              const rawStart = r.bytes.lastIndexOf(0, r.nameStart - 1) + 1;
              got.push({ type: r.type, nums: [r.dev, r.ino, r.nlink, r.size, r.blocks, r.depth], name: Buffer.from(r.bytes.subarray(r.nameStart, r.nameEnd)), raw: Buffer.from(r.bytes.subarray(rawStart, r.nameEnd)) });
              assert.equal(recordName(r), r.bytes.toString('utf8', r.nameStart, r.nameEnd));
            });
          }
        };
        const ok = mayThrow('FindRecordParser', read);
        if (rs !== null) {
          assert.notEqual(ok, null, 'well-formed output refused');
          assert.deepEqual(got.map(({ raw: _r, ...g }) => g), rs.map((r) => ({ ...r })));
          assert.equal(parser.pending, false);
        }
        // A record handed over is exactly what find would print for it: nothing read from the next.
        for (const g of got) {
          const m = /^(.) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) /s.exec(g.raw.toString('latin1'));
          const shown = `record ${JSON.stringify(g.raw.toString('latin1'))} read as ${JSON.stringify(g)}`;
          assert.ok(m !== null && m[1] === g.type && m[0].length === g.raw.length - g.name.length, shown);
          m.slice(2).forEach((digits, i) => digits.length > 15 || assert.equal(Number(digits), g.nums[i], shown));
        }
      }),
      runs(500),
    );
  });

  it("find's stderr lines: never throw, always an Error with a message", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.tuple(fc.string(), fc.constantFrom('No such file or directory', 'Permission denied', 'x')).map(([p, e]) => `find: '${p}': ${e}`)), (line) => {
        const { error } = mustNotThrow('parseFindError', () => parseFindError(line));
        assert.ok(error instanceof Error);
      }),
      runs(300),
    );
  });
});
