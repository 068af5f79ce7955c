// A layer's opaque directories as the store recorded them, for a process that cannot read the
// `trusted.overlay.opaque` xattr (collectors/host/capabilities.ts). Docker's layer tar holds a
// `.wh..wh..opq` entry in each directory that overlayfs marks opaque on unpacking, and the
// stores keep that tar's headers: graphdriver in layerdb's `tar-split.json.gz` (one JSON object a
// line, a file entry being `{"type":1,"name":…}`), the containerd store in the layer blob itself.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { rawName } from '../lib/raw-path.js';

export type OpaqueRecord =
  | { format: 'tar-split'; file: string }
  | { format: 'tar'; file: string; compression: 'gzip' | 'none' };

const OPAQUE = '.wh..wh..opq';

/**
 * `d/.wh..wh..opq` (or `./d/…`) names the opaque directory `d`; the layer's root is ''. A name
 * given as bytes (no UTF-8) gives its directory as bytes: the index is looked up by bytes.
 */
export function opaqueDirOf(name: string): string | null;
export function opaqueDirOf(name: string | Buffer): string | Buffer | null;
export function opaqueDirOf(name: string | Buffer): string | Buffer | null {
  if (typeof name !== 'string') {
    // latin1 maps each byte to one char and back: split and join without decoding.
    const dir = opaqueDirOf(name.toString('latin1'));
    return dir === null ? null : Buffer.from(dir, 'latin1');
  }
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts[parts.length - 1] !== OPAQUE) return null;
  return parts.slice(0, -1).join('/');
}

/** A tar-split line's file entry name (bytes when it is no UTF-8), or null (a raw segment, or no name). */
export function tarSplitName(line: string): string | Buffer | null {
  if (!line.includes('"type":1')) return null;
  const entry = JSON.parse(line) as { type?: number; name?: unknown; name_raw?: unknown };
  if (entry.type !== 1) return null;
  if (typeof entry.name === 'string') return entry.name;
  // Names that are not UTF-8 come base64-encoded; opaque markers are ASCII, their parents may not be.
  return typeof entry.name_raw === 'string' ? rawName(Buffer.from(entry.name_raw, 'base64')) : null;
}

async function fromTarSplit(file: string): Promise<Array<string | Buffer>> {
  const out: Array<string | Buffer> = [];
  const lines = createInterface({ input: createReadStream(file).pipe(createGunzip()), crlfDelay: Infinity });
  for await (const line of lines) {
    const name = tarSplitName(line);
    const dir = name === null ? null : opaqueDirOf(name);
    if (dir !== null) out.push(dir);
  }
  return out;
}

async function fromTar(file: string, compression: 'gzip' | 'none'): Promise<string[]> {
  const out: string[] = [];
  // Loaded here: only a layer blob's tar needs it (the containerd store, its xattrs unreadable),
  // and loading its fourteen CommonJS files cost every report about 30 ms of start-up.
  const { default: tar } = await import('tar-stream');
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    const dir = opaqueDirOf(header.name);
    if (dir !== null) out.push(dir);
    stream.on('end', next);
    stream.resume();
  });
  const source = createReadStream(file);
  await (compression === 'gzip' ? pipeline(source, createGunzip(), extract) : pipeline(source, extract));
  return out;
}

/** The directories the record marks opaque, relative to the layer's root. */
export function readOpaqueDirs(rec: OpaqueRecord): Promise<Array<string | Buffer>> {
  return rec.format === 'tar-split' ? fromTarSplit(rec.file) : fromTar(rec.file, rec.compression);
}
