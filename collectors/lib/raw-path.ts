// Paths as Linux has them: bytes. A name need not be UTF-8, and decoding one that is not turns its
// bad bytes into U+FFFD, so that two different names read as one and the decoded path opens
// nothing. The walkers keep a path as a string while it is UTF-8 (most are, and strings are
// cheaper) and as a Buffer once a name is not; people are shown a readable form (displayPath).
import { isUtf8 } from 'node:buffer';

export type RawPath = string | Buffer;

/** `dir/name` for a name as readdir gives it in bytes: a string while both are UTF-8. */
export function joinRaw(dir: RawPath, name: Buffer): RawPath {
  const slashed = dir[dir.length - 1] === (typeof dir === 'string' ? '/' : 0x2f);
  if (typeof dir === 'string' && isUtf8(name)) return slashed ? dir + name.toString('utf8') : `${dir}/${name.toString('utf8')}`;
  const head = typeof dir === 'string' ? Buffer.from(dir, 'utf8') : dir;
  return Buffer.concat(slashed ? [head, name] : [head, SLASH, name]);
}

const SLASH = Buffer.from('/');

/** The name as a string when it is UTF-8, else its bytes. */
export function rawName(name: Buffer): RawPath {
  return isUtf8(name) ? name.toString('utf8') : name;
}

/** How many bytes a path has (PATH_MAX counts bytes). */
export function byteLength(p: RawPath): number {
  return typeof p === 'string' ? Buffer.byteLength(p, 'utf8') : p.length;
}

/**
 * A path for a person and for JSON: the text when it is UTF-8; otherwise each byte that is no
 * part of a valid UTF-8 sequence written `\xNN` (a backslash already in the name stays as it is),
 * so names that differ by their bad bytes still read differently.
 */
export function displayPath(p: RawPath): string {
  if (typeof p === 'string') return p;
  if (isUtf8(p)) return p.toString('utf8');
  let out = '';
  let i = 0;
  while (i < p.length) {
    const c = p[i]!;
    const len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (len > 0 && i + len <= p.length && isUtf8(p.subarray(i, i + len))) {
      out += p.toString('utf8', i, i + len);
      i += len;
    } else {
      out += `\\x${c.toString(16).padStart(2, '0')}`;
      i += 1;
    }
  }
  return out;
}

/** Text with its control characters written as escapes (`\n`, `\u001b`): one line, whatever it holds. */
export function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1));
}

/** How long a path may be on a line of stderr. */
export const LINE_PATH_MAX = 200;

/**
 * A path for one line of stderr: control characters written as escapes (a newline in a name
 * must not split the line), and a path longer than `max` characters cut in the middle with an
 * ellipsis, keeping its start (which root) and its end (which entry). The JSON keeps it whole.
 */
export function shortPath(path: string, max = LINE_PATH_MAX): string {
  const flat = oneLine(path);
  const chars = [...flat];
  if (chars.length <= max) return flat;
  const head = Math.ceil((max - 1) / 2);
  return `${chars.slice(0, head).join('')}…${chars.slice(chars.length - (max - 1 - head)).join('')}`;
}
