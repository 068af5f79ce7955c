import assert from 'node:assert/strict';
import { renderText } from '../../agent/render/text.js';
import type { Report } from '../../agent/model/report.js';
import { formatIEC, table } from '../../agent/render/units.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const NGINX = `sha256:${'a'.repeat(64)}`;
const BUILT = `sha256:${'b'.repeat(64)}`;
const WEB = 'c'.repeat(64);
const ORPHAN_PATH = `/var/lib/docker/overlay2/${'d'.repeat(64)}`;

// Two images sharing layer L1 (80 MiB); the untagged one is listed second but has more unique bytes.
function report(): Report {
  const disk = {
    imageLayers: 500 * MiB,
    imageContent: 0,
    containerLayers: 4 * MiB,
    volumes: 1.5 * GiB,
    logs: 10 * MiB,
    buildCache: 2 * GiB,
    orphans: 64 * MiB,
    other: 0,
    total: 500 * MiB + 4 * MiB + 1.5 * GiB + 10 * MiB + 2 * GiB + 64 * MiB,
  };
  return {
    dockerRoot: '/var/lib/docker',
    apiUp: true,
    driver: { name: 'overlay2', store: 'graphdriver', backingFs: 'xfs', dType: true, vfsFallback: false, reason: 'overlay2 on xfs with d_type' },
    stores: [],
    filesystem: null,
    images: [
      {
        id: NGINX,
        tags: ['nginx:1.25'],
        layers: ['sha256:l1', 'sha256:l2'],
        disk: { total: 200 * MiB, shared: 80 * MiB, unique: 120 * MiB },
        apparent: { total: 190 * MiB, shared: 76 * MiB, unique: 114 * MiB },
        content: { disk: 0, apparent: 0 },
        wasted: { disk: 3 * MiB, apparent: 3 * MiB },
        containers: 1,
        rmi: { disk: 0, apparent: 0 },
      },
      {
        id: BUILT,
        tags: [],
        layers: ['sha256:l1', 'sha256:l3'],
        disk: { total: 380 * MiB, shared: 80 * MiB, unique: 300 * MiB },
        apparent: { total: 370 * MiB, shared: 76 * MiB, unique: 294 * MiB },
        content: { disk: 0, apparent: 0 },
        wasted: { disk: 0, apparent: 0 },
        containers: 0,
        rmi: { disk: 0, apparent: 0 },
      },
    ],
    content: [],
    layers: [
      { chainId: 'sha256:l1', diffId: 'sha256:d1', cacheId: 'c1', disk: 80 * MiB, apparent: 76 * MiB, images: [NGINX, BUILT], containers: [WEB] },
      { chainId: 'sha256:l2', diffId: 'sha256:d2', cacheId: 'c2', disk: 120 * MiB, apparent: 114 * MiB, images: [NGINX], containers: [WEB] },
      { chainId: 'sha256:l3', diffId: 'sha256:d3', cacheId: 'c3', disk: 300 * MiB, apparent: 294 * MiB, images: [BUILT], containers: [] },
    ],
    containers: [
      {
        id: WEB,
        name: '/web',
        imageId: NGINX,
        state: 'running',
        writable: { disk: 4 * MiB, apparent: 3 * MiB },
        init: { disk: 0, apparent: 0 },
        copiedUp: { disk: 1 * MiB, apparent: 1 * MiB },
        logs: 10 * MiB,
        logsApparent: 10 * MiB,
      },
    ],
    volumes: [{ name: 'pgdata', disk: 1.5 * GiB, apparent: 1.4 * GiB, containers: [WEB], anonymous: false }],
    owners: [],
    orphans: [{ id: 'd'.repeat(64), kind: 'layer-dir', path: ORPHAN_PATH, disk: 64 * MiB, apparent: 60 * MiB }],
    buildCache: { disk: 2 * GiB, apparent: 1.9 * GiB, dirs: 7 },
    reclaim: [],
    totals: {
      disk,
      apparent: {
        imageLayers: 484 * MiB,
        imageContent: 0,
        containerLayers: 3 * MiB,
        volumes: 1.4 * GiB,
        logs: 10 * MiB,
        buildCache: 1.9 * GiB,
        orphans: 60 * MiB,
        other: 0,
        total: 484 * MiB + 3 * MiB + 1.4 * GiB + 10 * MiB + 1.9 * GiB + 60 * MiB,
      },
      naiveVirtual: 774 * MiB,
    },
    errors: [{ source: 'volumes', path: '/var/lib/docker/volumes/broken', message: 'EACCES: permission denied' }],
    scan: {
      startedAt: '2026-11-23T12:00:00.000Z',
      finishedAt: '2026-11-23T12:00:02.500Z',
      durationSeconds: 2.5,
      collectors: [{ name: 'layer-walker', success: true, durationSeconds: 2.1 }],
      layersWalked: 3,
      layersReused: 0,
    },
  };
}

function vfsReport(): Report {
  return {
    ...report(),
    driver: {
      name: 'vfs',
      store: 'graphdriver',
      backingFs: 'xfs',
      dType: false,
      vfsFallback: true,
      reason: 'xfs was formatted with ftype=0, so overlay2 cannot run',
      vfsDuplicateBytes: 12 * GiB,
    },
    volumes: [],
    orphans: [],
    errors: [],
  };
}

/** The lines of the section whose heading starts with `heading`, heading included. */
function section(text: string, heading: string): string[] {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith(heading));
  assert.ok(start >= 0, `no section ${heading}`);
  const end = lines.indexOf('', start);
  return lines.slice(start, end < 0 ? undefined : end);
}

describe('formatIEC', () => {
  it('formats bytes with IEC units and fixed precision per unit', () => {
    assert.equal(formatIEC(0), '0 B');
    assert.equal(formatIEC(512), '512 B');
    assert.equal(formatIEC(1023), '1023 B');
    assert.equal(formatIEC(1024), '1.0 KiB');
    assert.equal(formatIEC(1536), '1.5 KiB');
    assert.equal(formatIEC(10485760), '10.0 MiB');
    assert.equal(formatIEC(8 * MiB), '8.0 MiB');
    assert.equal(formatIEC(1.23 * GiB), '1.23 GiB');
    assert.equal(formatIEC(5 * 1024 * GiB), '5.00 TiB');
    assert.equal(formatIEC(Number.MAX_SAFE_INTEGER), '8.00 PiB');
  });

  it('moves to the next unit when rounding reaches 1024', () => {
    assert.equal(formatIEC(MiB - 1), '1.0 MiB');
    assert.equal(formatIEC(GiB - 1), '1.00 GiB');
  });

  it('never prints NaN', () => {
    assert.equal(formatIEC(Number.NaN), '?');
    assert.equal(formatIEC(-2048), '-2.0 KiB');
  });
});

describe('table', () => {
  it('right-aligns figures, left-aligns text, two spaces apart', () => {
    const lines = table(
      [
        ['alpha', '1.0 KiB'],
        ['be', '10.0 MiB'],
      ],
      [{ header: 'NAME' }, { header: 'SIZE', align: 'right' }],
    );
    assert.deepEqual(lines, ['NAME       SIZE', 'alpha   1.0 KiB', 'be     10.0 MiB']);
  });

  it('truncates long names with … to fit the width', () => {
    const lines = table([['x'.repeat(80), '1.0 KiB']], [{ header: 'NAME', truncate: true }, { header: 'SIZE', align: 'right' }], 40);
    assert.ok(lines.every((l) => l.length <= 40));
    assert.match(lines[1] ?? '', /^x+…  1\.0 KiB$/);
  });
});

describe('renderText', () => {
  const text = renderText(report());
  const vfs = renderText(vfsReport());

  it('orders images by unique disk bytes, untagged ones as <none>', () => {
    const rows = section(text, 'Images').slice(2);
    assert.match(rows[0] ?? '', /^ {2}<none> +bbbbbbbbbbbb +380\.0 MiB +80\.0 MiB +300\.0 MiB +0 B +0$/);
    assert.match(rows[1] ?? '', /^ {2}nginx:1\.25 +aaaaaaaaaaaa +200\.0 MiB +80\.0 MiB +120\.0 MiB +3\.0 MiB +1$/);
  });

  it('aligns every row of a table to the same width', () => {
    for (const heading of ['Host totals', 'Images', 'Containers']) {
      const rows = section(text, heading).slice(1).filter((l) => l.startsWith('  '));
      assert.ok(rows.length >= 2, heading);
      assert.equal(new Set(rows.map((r) => r.length)).size, 1, `${heading}:\n${rows.join('\n')}`);
    }
  });

  it('shows totals on both bases and what sharing saves', () => {
    assert.match(text, /^ {2}Total +4\.06 GiB +3\.84 GiB$/m);
    assert.match(text, /claims 774\.0 MiB; image and container layers hold 487\.0 MiB \(apparent\)\.\nSharing saves 287\.0 MiB \(37%\)\./);
  });

  it('lists the container, the volume with its users, and the build cache', () => {
    assert.match(text, /^ {2}web +cccccccccccc +running +4\.0 MiB +1\.0 MiB +10\.0 MiB$/m);
    assert.match(text, /^ {2}pgdata +1\.50 GiB +1\.40 GiB +web$/m);
    assert.match(text, /^Build cache: 2\.00 GiB on disk \(1\.90 GiB apparent\) in 7 dirs$/m);
  });

  it('puts the vfs block first only on a vfs fallback', () => {
    assert.doesNotMatch(text, /WARNING/);
    const lines = vfs.split('\n');
    assert.match(lines[0] ?? '', /storage driver vfs on xfs \(no d_type\) · Docker API answered$/);
    assert.match(lines[2] ?? '', /^WARNING: Docker is on the vfs storage driver/);
    assert.ok(vfs.indexOf('WARNING') < vfs.indexOf('Host totals'));
    assert.match(vfs, /Cost: 12\.00 GiB more/);
    assert.match(vfs, /Why: {2}xfs was formatted with ftype=0/);
    assert.match(vfs, /ftype=1/);
    assert.match(vfs, /ext4 with the filetype feature/);
  });

  it('shows orphan paths whole, with a hint not to delete blindly', () => {
    assert.match(text, new RegExp(`64\\.0 MiB +60\\.0 MiB +${ORPHAN_PATH}$`, 'm'));
    assert.match(text, /safe to inspect; layerdu never/);
  });

  it('warns that orphans may be in use when layer records could not be read', () => {
    const r = report();
    assert.doesNotMatch(renderText(r), /Caution/);
    r.errors.push({ source: 'layer-metadata', path: '/var/lib/docker/image/overlay2/layerdb/sha256/ab', message: 'cache-id missing' });
    assert.match(renderText(r), /Caution: 1 layer record\(s\) could not be read/);
  });

  it('ends with the errors when there are any', () => {
    const errors = section(text, 'Errors');
    assert.equal(errors[1], '  volumes /var/lib/docker/volumes/broken: EACCES: permission denied');
    assert.ok(text.trimEnd().endsWith('EACCES: permission denied'));
    assert.doesNotMatch(vfs, /Errors/);
  });

  it('says so in one line when a section is empty', () => {
    assert.match(vfs, /^Volumes: none$/m);
    assert.match(vfs, /^Orphans: none$/m);
  });

  it('says when the figures come from disk alone', () => {
    assert.match(text.split('\n')[0] ?? '', /Docker API answered/);
    assert.match(renderText({ ...report(), apiUp: false }), /figures come from disk alone/);
  });

  it('uses ANSI bold only when asked, and never prints undefined or NaN', () => {
    const colored = renderText(report(), { color: true });
    assert.match(colored, /\x1b\[1mImages/);
    for (const out of [text, vfs, colored, renderText(report(), { width: 50 })]) {
      assert.doesNotMatch(out, /undefined|NaN|null/);
    }
    assert.doesNotMatch(text, /\x1b/);
  });
});

describe('renderText on the containerd store', () => {
  const r = report();
  const on: Report = {
    ...r,
    driver: { ...r.driver, name: 'overlayfs', store: 'containerd' },
    totals: { ...r.totals, disk: { ...r.totals.disk, imageLayers: 300 * MiB, imageContent: 100 * MiB } },
    stores: [
      { store: 'containerd', driver: 'overlayfs', root: '/var/lib/containerd', namespace: 'moby', active: true, disk: 400 * MiB },
      { store: 'graphdriver', driver: 'overlay2', root: '/var/lib/docker/overlay2', active: false, disk: 2 * GiB },
    ],
  };
  const out = renderText(on);

  it('names the store in the header and counts the blobs as their own category', () => {
    assert.match(out.split('\n')[0] ?? '', /storage driver overlayfs \(containerd image store\)/);
    assert.match(out, /^ {2}Image content \(blobs\) +100\.0 MiB/m);
    assert.match(out, /compressed blobs beside its unpacked snapshots: 100\.0 MiB on disk \(25% of the images' bytes\)\./);
  });

  it("says where Docker's own figures go wrong on this store", () => {
    assert.match(out, /SHARED SIZE counts shared snapshots only/);
  });

  it('lists both stores and says the old one is hidden, not freed', () => {
    assert.match(out, /^Image stores \(2\)$/m);
    assert.match(out, /graphdriver \(overlay2\) at \/var\/lib\/docker\/overlay2: 2\.00 GiB — not in use/);
    assert.match(out, /Docker no longer uses the graphdriver store at \/var\/lib\/docker\/overlay2: it hides its 2\.00 GiB but does not free them\./);
  });

  it('says none of it on the classic store', () => {
    const classic = renderText(r);
    assert.doesNotMatch(classic, /containerd|Image stores|Image content/);
  });
});
