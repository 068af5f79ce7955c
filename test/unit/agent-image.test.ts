// What the layerdu image (test/support/agent-image.ts) is made of, from literal tool output: ldd's
// library lists, stdbuf's preload, npm's production packages, and the plan of the root filesystem.
import assert from 'node:assert/strict';
import {
  AGENT_TREES, GROUP, IMAGE_APP, IMAGE_NODE, PASSWD, appRoots, parseLdd, parseNpmParseable, parseStdbufPreload, rootfsPlan,
  type RootfsEntry,
} from '../support/agent-image.js';

// `ldd /usr/bin/node` and `ldd /usr/bin/find` on Debian 12 (bookworm), as printed.
const LDD_NODE = `\tlinux-vdso.so.1 (0x00007ffaff0fc000)
\tlibdl.so.2 => /lib/x86_64-linux-gnu/libdl.so.2 (0x00007ffaff0e5000)
\tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007ffafee00000)
\tlibm.so.6 => /lib/x86_64-linux-gnu/libm.so.6 (0x00007ffafed20000)
\tlibgcc_s.so.1 => /lib/x86_64-linux-gnu/libgcc_s.so.1 (0x00007ffaff0c5000)
\tlibpthread.so.0 => /lib/x86_64-linux-gnu/libpthread.so.0 (0x00007ffaff0c0000)
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007ffafeb3e000)
\t/lib64/ld-linux-x86-64.so.2 (0x00007ffaff0fe000)
`;
const LDD_FIND = `\tlinux-vdso.so.1 (0x00007f1eed949000)
\tlibselinux.so.1 => /lib/x86_64-linux-gnu/libselinux.so.1 (0x00007f1eed8d1000)
\tlibm.so.6 => /lib/x86_64-linux-gnu/libm.so.6 (0x00007f1eed7f1000)
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f1eed60f000)
\tlibpcre2-8.so.0 => /lib/x86_64-linux-gnu/libpcre2-8.so.0 (0x00007f1eed575000)
\t/lib64/ld-linux-x86-64.so.2 (0x00007f1eed94b000)
`;

describe('agent image: parseLdd', () => {
  it('names every library and the loader, not the vDSO', () => {
    assert.deepEqual(parseLdd(LDD_NODE), [
      '/lib/x86_64-linux-gnu/libdl.so.2',
      '/lib/x86_64-linux-gnu/libstdc++.so.6',
      '/lib/x86_64-linux-gnu/libm.so.6',
      '/lib/x86_64-linux-gnu/libgcc_s.so.1',
      '/lib/x86_64-linux-gnu/libpthread.so.0',
      '/lib/x86_64-linux-gnu/libc.so.6',
      '/lib64/ld-linux-x86-64.so.2',
    ]);
    assert.deepEqual(parseLdd(LDD_FIND).slice(0, 1), ['/lib/x86_64-linux-gnu/libselinux.so.1']);
  });

  it("takes old glibc's vDSO line, and none for a static binary", () => {
    assert.deepEqual(parseLdd('\tlinux-vdso.so.1 =>  (0x00007fff)\n\tlibc.so.6 => /lib/libc.so.6 (0x00007f00)\n'), ['/lib/libc.so.6']);
    assert.deepEqual(parseLdd('\tstatically linked\n'), []);
    assert.deepEqual(parseLdd('\tnot a dynamic executable\n'), []);
  });

  it('fails on a library ldd did not find', () => {
    assert.throws(() => parseLdd('\tlibfoo.so.1 => not found\n', '/x.node'), /ldd \/x\.node: libfoo\.so\.1 not found/);
  });
});

describe('agent image: parseStdbufPreload', () => {
  it("takes libstdbuf.so from LD_PRELOAD, after what was preloaded already", () => {
    assert.equal(parseStdbufPreload('/usr/libexec/coreutils/libstdbuf.so\n'), '/usr/libexec/coreutils/libstdbuf.so');
    assert.equal(parseStdbufPreload('/opt/a.so:/usr/lib/coreutils/libstdbuf.so\n'), '/usr/lib/coreutils/libstdbuf.so');
    assert.throws(() => parseStdbufPreload('\n'), /libstdbuf/);
  });
});

describe('agent image: parseNpmParseable', () => {
  const text = '/work/main\n/work/main/node_modules/yaml\n/work/main/node_modules/@napi-rs/xattr\n/work/main/node_modules/a/node_modules/b\n';
  it('lists the packages relative to the root, the project itself left out', () => {
    assert.deepEqual(parseNpmParseable(text, '/work/main'), ['node_modules/@napi-rs/xattr', 'node_modules/a/node_modules/b', 'node_modules/yaml']);
  });
  it('refuses a package outside node_modules', () => {
    assert.throws(() => parseNpmParseable('/work/main\n/elsewhere/x\n', '/work/main'), /not under/);
  });
  it('copies each package but its own node_modules, beside the agent trees', () => {
    const { roots, skip } = appRoots(['node_modules/a', 'node_modules/a/node_modules/b']);
    assert.deepEqual(roots, [...AGENT_TREES, 'node_modules/a', 'node_modules/a/node_modules/b']);
    assert.deepEqual([...skip], ['node_modules/a/node_modules', 'node_modules/a/node_modules/b/node_modules']);
    assert.ok(!AGENT_TREES.some((t) => t.startsWith('dist/test')), 'no tests in the image');
  });
});

describe('agent image: rootfsPlan', () => {
  const plan = rootfsPlan({
    node: '/usr/bin/node',
    programs: ['/usr/bin/find', '/usr/bin/stdbuf'],
    libraries: ['/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2', '/usr/libexec/coreutils/libstdbuf.so'],
    repoRoot: '/work/main',
    app: [
      { rel: 'package.json', kind: 'file' },
      { rel: 'dist/bin', kind: 'dir' },
      { rel: 'dist/bin/layerdu.js', kind: 'file' },
      { rel: 'node_modules/.bin/x', kind: 'symlink', target: '../x/bin.js' },
    ],
  });
  const at = (p: string) => plan.find((e) => e.path === p);

  it('puts node at its image path and keeps programs and libraries at theirs', () => {
    assert.deepEqual(at(IMAGE_NODE), { path: IMAGE_NODE, kind: 'file', source: '/usr/bin/node' });
    assert.deepEqual(at('/usr/bin/find'), { path: '/usr/bin/find', kind: 'file', source: '/usr/bin/find' });
    assert.deepEqual(at('/lib64/ld-linux-x86-64.so.2'), { path: '/lib64/ld-linux-x86-64.so.2', kind: 'file', source: '/lib64/ld-linux-x86-64.so.2' });
    assert.deepEqual(at('/usr/libexec/coreutils/libstdbuf.so')?.kind, 'file');
  });

  it('puts the app under its directory, symlinks as they are', () => {
    assert.deepEqual(at(`${IMAGE_APP}/dist/bin/layerdu.js`), { path: `${IMAGE_APP}/dist/bin/layerdu.js`, kind: 'file', source: '/work/main/dist/bin/layerdu.js' });
    assert.deepEqual(at(`${IMAGE_APP}/node_modules/.bin/x`), { path: `${IMAGE_APP}/node_modules/.bin/x`, kind: 'symlink', target: '../x/bin.js' });
  });

  it('has root and nobody, a sticky /tmp, and every parent directory before its entries', () => {
    assert.deepEqual(at('/etc/passwd'), { path: '/etc/passwd', kind: 'text', content: PASSWD, mode: 0o644 });
    assert.match(PASSWD, /^root:x:0:0:/m);
    assert.match(PASSWD, /^nobody:x:65534:65534:/m);
    assert.match(GROUP, /^root:x:0:/m);
    assert.match(GROUP, /^nobody:x:65534:/m);
    assert.deepEqual(at('/tmp'), { path: '/tmp', kind: 'dir', mode: 0o1777 });
    const paths = plan.map((e: RootfsEntry) => e.path);
    assert.equal(new Set(paths).size, paths.length, 'each path once');
    for (const [i, p] of paths.entries()) {
      const parent = p.slice(0, p.lastIndexOf('/'));
      if (parent === '') continue;
      const j = paths.indexOf(parent);
      assert.ok(j >= 0 && j < i && plan[j]!.kind === 'dir', `${parent} is a directory listed before ${p}`);
    }
    for (const d of ['/usr/local/bin', '/lib64', '/usr/libexec/coreutils', `${IMAGE_APP}/dist`]) assert.equal(at(d)?.kind, 'dir', d);
  });

  it('refuses a path given twice differently, and a file where a directory must be', () => {
    const base = { node: '/n', programs: [], libraries: [], repoRoot: '/r' };
    assert.throws(() => rootfsPlan({ ...base, app: [{ rel: 'x', kind: 'file' }, { rel: 'x', kind: 'dir' }] }), /given twice/);
    assert.throws(() => rootfsPlan({ ...base, app: [{ rel: 'x', kind: 'file' }, { rel: 'x/y', kind: 'file' }] }), /not a directory/);
  });
});
