// Debian 13 ("trixie") docker.io and containerd for the containerd-image-store tests, fetched once
// into a cache and unpacked with `dpkg -x`: never installed, the system's packages are untouched.
// apt runs on a private directory (its own sources.list, lists and archive cache) against the
// mirror the machine already uses. Their runc is not used (it needs glibc 2.38); the system's
// Debian 12 /usr/sbin/runc is (see containerd-store.ts).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { run } from './commands.js';
import { debug } from './harness-debug.js';

export const TRIXIE_CACHE = process.env.LDU_TRIXIE_CACHE ?? '/var/cache/layerdu-test/trixie';
const PACKAGES = ['docker.io', 'containerd'] as const;
const DEFAULT_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

export interface TrixieBins {
  /** The unpacked packages (`dpkg -x` of each .deb). */
  root: string;
  dockerd: string;
  containerd: string;
  ctr: string;
  /** `<root>/usr/bin`: containerd-shim-runc-v2 and friends. */
  binDir: string;
  versions: Record<string, string>;
  /** Seconds the download and unpack took when this call did it; null when it came from the cache. */
  downloadSeconds: number | null;
}

interface AptSource {
  uri: string;
  suites: string[];
  components: string[];
  signedBy: string | null;
}

/** The `deb` entries of /etc/apt/sources.list and sources.list.d (one-line and deb822 formats). */
function aptSources(): AptSource[] {
  const out: AptSource[] = [];
  const oneLine = (text: string): void => {
    for (const raw of text.split('\n')) {
      const line = raw.replace(/#.*/, '').trim();
      const m = /^deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(line);
      if (!m) continue;
      const signed = /signed-by=(\S+)/.exec(m[1] ?? '');
      out.push({ uri: m[2]!, suites: [m[3]!], components: (m[4] ?? '').split(/\s+/).filter(Boolean), signedBy: signed?.[1] ?? null });
    }
  };
  const deb822 = (text: string): void => {
    for (const stanza of text.split(/\n\s*\n/)) {
      const fields = new Map<string, string>();
      for (const raw of stanza.split('\n')) {
        if (raw.startsWith('#')) continue;
        const m = /^([A-Za-z-]+):\s*(.*)$/.exec(raw);
        if (m) fields.set(m[1]!.toLowerCase(), m[2]!.trim());
      }
      if (!(fields.get('types') ?? '').split(/\s+/).includes('deb')) continue;
      if ((fields.get('enabled') ?? 'yes').toLowerCase() === 'no') continue;
      const words = (k: string): string[] => (fields.get(k) ?? '').split(/\s+/).filter(Boolean);
      for (const uri of words('uris')) {
        out.push({ uri, suites: words('suites'), components: words('components'), signedBy: fields.get('signed-by') ?? null });
      }
    }
  };
  const read = (p: string): string => {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      return '';
    }
  };
  oneLine(read('/etc/apt/sources.list'));
  let parts: string[] = [];
  try {
    parts = readdirSync('/etc/apt/sources.list.d').sort();
  } catch {
    /* none */
  }
  for (const name of parts) {
    const p = path.join('/etc/apt/sources.list.d', name);
    if (name.endsWith('.list')) oneLine(read(p));
    else if (name.endsWith('.sources')) deb822(read(p));
  }
  return out;
}

/** The machine's own Debian mirror: the entry for its release's main suite (not -security, -updates). */
export function debianMirror(): { uri: string; keyring: string | null } {
  const osRelease = (() => {
    try {
      return readFileSync('/etc/os-release', 'utf8');
    } catch {
      return '';
    }
  })();
  const codename = /^VERSION_CODENAME=(\S+)/m.exec(osRelease)?.[1]?.replace(/"/g, '') ?? '';
  const sources = aptSources().filter((s) => s.components.includes('main'));
  const pick =
    sources.find((s) => s.suites.includes(codename)) ??
    sources.find((s) => /\/debian\/?$/.test(s.uri) && !s.suites.some((x) => x.includes('security')));
  if (!pick) throw new Error(`no Debian mirror for ${codename || 'this release'} in /etc/apt/sources.list*`);
  const keyring = pick.signedBy ?? (existsSync(DEFAULT_KEYRING) ? DEFAULT_KEYRING : null);
  return { uri: pick.uri, keyring };
}

function bins(root: string, versions: Record<string, string>, downloadSeconds: number | null): TrixieBins {
  return {
    root,
    dockerd: path.join(root, 'usr/sbin/dockerd'),
    containerd: path.join(root, 'usr/bin/containerd'),
    ctr: path.join(root, 'usr/bin/ctr'),
    binDir: path.join(root, 'usr/bin'),
    versions,
    downloadSeconds,
  };
}

function complete(root: string): boolean {
  return ['usr/sbin/dockerd', 'usr/bin/containerd', 'usr/bin/ctr', 'usr/bin/containerd-shim-runc-v2'].every((p) =>
    existsSync(path.join(root, p)),
  );
}

let once: Promise<TrixieBins> | null = null;

/** The trixie binaries, downloaded and unpacked on first use (once per cache directory). */
export function ensureTrixie(cache = TRIXIE_CACHE): Promise<TrixieBins> {
  once ??= fetchTrixie(cache).catch((e: unknown) => {
    once = null;
    throw e;
  });
  return once;
}

async function fetchTrixie(cache: string): Promise<TrixieBins> {
  const root = path.join(cache, 'root');
  const versionsFile = path.join(cache, 'versions.json');
  if (complete(root) && existsSync(versionsFile)) {
    const versions = JSON.parse(await readFile(versionsFile, 'utf8')) as Record<string, string>;
    return bins(root, versions, null);
  }
  const started = Date.now();
  const apt = path.join(cache, 'apt');
  const debs = path.join(cache, 'debs');
  for (const d of [path.join(apt, 'lists', 'partial'), path.join(apt, 'cache', 'archives', 'partial'), debs]) {
    await mkdir(d, { recursive: true });
  }
  const { uri, keyring } = debianMirror();
  const sourcesList = path.join(apt, 'sources.list');
  await writeFile(sourcesList, `deb ${keyring ? `[signed-by=${keyring}] ` : ''}${uri} trixie main\n`);
  const options = [
    '-o', `Dir::Etc::SourceList=${sourcesList}`,
    '-o', 'Dir::Etc::SourceParts=/dev/null',
    '-o', `Dir::State::Lists=${path.join(apt, 'lists')}`,
    '-o', `Dir::Cache=${path.join(apt, 'cache')}`,
    '-o', 'Acquire::Languages=none',
    // the files land in our own root-owned directory, which apt's _apt sandbox user cannot write
    '-o', 'APT::Sandbox::User=root',
  ];
  const env = { ...process.env, LC_ALL: 'C', DEBIAN_FRONTEND: 'noninteractive' };
  debug(`trixie: apt-get update from ${uri} into ${apt}`);
  await run('apt-get', [...options, 'update'], { env, timeoutMs: 300_000 });
  for (const f of await readdir(debs)) await rm(path.join(debs, f), { force: true });
  await run('apt-get', [...options, 'download', ...PACKAGES], { env, cwd: debs, timeoutMs: 600_000 });
  const files = (await readdir(debs)).filter((f) => f.endsWith('.deb'));
  const versions: Record<string, string> = {};
  const tmpRoot = `${root}.tmp-${process.pid}`;
  await rm(tmpRoot, { recursive: true, force: true });
  await mkdir(tmpRoot, { recursive: true });
  for (const pkg of PACKAGES) {
    const file = files.find((f) => f.startsWith(`${pkg}_`));
    if (!file) throw new Error(`apt-get download ${pkg}: no ${pkg}_*.deb in ${debs} (have: ${files.join(', ') || 'nothing'})`);
    versions[pkg] = (await run('dpkg-deb', ['-f', path.join(debs, file), 'Version'])).trim();
    await run('dpkg', ['-x', path.join(debs, file), tmpRoot]);
  }
  if (!complete(tmpRoot)) throw new Error(`trixie packages unpacked into ${tmpRoot} lack dockerd, containerd, ctr or the shim`);
  await rm(root, { recursive: true, force: true });
  await rename(tmpRoot, root);
  await writeFile(versionsFile, `${JSON.stringify({ ...versions, mirror: uri }, null, 2)}\n`);
  const seconds = (Date.now() - started) / 1000;
  debug(`trixie: ${JSON.stringify(versions)} in ${seconds} s`);
  return bins(root, { ...versions, mirror: uri }, seconds);
}
