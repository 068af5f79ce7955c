// What GNU find prints for each entry (FIND_FORMAT) and for each problem, and the parser that
// turns its stdout into records. Pure: find-walk.ts runs find and feeds this.

/** Type letter, st_dev, st_ino, st_nlink, st_size, st_blocks, depth, name; NUL-terminated (names may hold newlines). */
export const FIND_FORMAT = '%y %D %i %n %s %b %d %f\\0';
/** The same for an entry with one link: its inode number is never needed, so find need not print it. */
export const SINGLE_LINK_FORMAT = '%y %D 0 1 %s %b %d %f\\0';

export interface FindRecord {
  /** find's %y: f, d, l, c, b, p, s (or U, ? when unknown). */
  type: string;
  dev: number;
  ino: number;
  nlink: number;
  size: number;
  blocks: number;
  /** 0 for the walk's root. */
  depth: number;
  /** The name's bytes are bytes[nameStart, nameEnd); recordName() decodes them. */
  bytes: Buffer;
  nameStart: number;
  nameEnd: number;
}

/** The name decoded, for matching a root by name (the index hashes the bytes themselves). */
export function recordName(r: FindRecord): string {
  return r.bytes.toString('utf8', r.nameStart, r.nameEnd);
}

const SPACE = 0x20;
const NUL = 0;

/**
 * Splits find's stdout into records. Chunks end anywhere; a record cut in two waits for the
 * next chunk. The record handed to `onRecord` is one object, refilled each time.
 */
export class FindRecordParser {
  private buf: Buffer = Buffer.alloc(0);
  private start = 0;
  private readonly record: FindRecord = { type: '', dev: 0, ino: 0, nlink: 0, size: 0, blocks: 0, depth: 0, bytes: Buffer.alloc(0), nameStart: 0, nameEnd: 0 };
  private at = 0;

  /** Adds a chunk of find's output; `drain` hands over its records. */
  push(chunk: Buffer): void {
    this.buf = this.start < this.buf.length ? Buffer.concat([this.buf.subarray(this.start), chunk]) : chunk;
    this.start = 0;
  }

  /**
   * Hands over the complete records, until none is left or `more()` (asked every 256 records)
   * says to stop. True when it stopped with records left.
   */
  drain(onRecord: (r: FindRecord) => void, more: () => boolean = () => true): boolean {
    const buf = this.buf;
    const r = this.record;
    let n = 0;
    for (let end = buf.indexOf(NUL, this.start); end >= 0; end = buf.indexOf(NUL, this.start)) {
      if (++n % 256 === 0 && !more()) return true;
      const start = this.start;
      // The type letter and its space; a record shorter than that is none find prints.
      if (end - start < 2 || buf[start + 1] !== SPACE || buf[start] === SPACE) throw this.unknown(buf, start, end);
      this.at = start + 2;
      r.type = String.fromCharCode(buf[start]!);
      r.dev = this.number(buf, start, end);
      r.ino = this.number(buf, start, end);
      r.nlink = this.number(buf, start, end);
      r.size = this.number(buf, start, end);
      r.blocks = this.number(buf, start, end);
      r.depth = this.number(buf, start, end);
      r.bytes = buf;
      r.nameStart = this.at;
      r.nameEnd = end;
      this.start = end + 1;
      onRecord(r);
    }
    return false;
  }

  /** Bytes of a record not yet complete (at the end of find's output: it stopped mid-record). */
  get pending(): boolean {
    return this.start < this.buf.length;
  }

  /** The decimal at `this.at`, up to its space: at least one digit, all before the record's end. */
  private number(buf: Buffer, start: number, end: number): number {
    let v = 0;
    let i = this.at;
    for (let c = buf[i]!; c !== SPACE || i === this.at; c = buf[++i]!) {
      if (c < 0x30 || c > 0x39 || i >= end) throw this.unknown(buf, start, end);
      v = v * 10 + (c - 0x30);
    }
    this.at = i + 1;
    return v;
  }

  private unknown(buf: Buffer, start: number, end: number): Error {
    return new Error(`find printed a record this parser does not know: ${JSON.stringify(buf.toString('utf8', start, end))}`);
  }
}

// What strerror says (find runs with LC_ALL=C), as the error codes the Node walker meets.
const ERRNO_TEXT: Record<string, string> = {
  'No such file or directory': 'ENOENT',
  'Permission denied': 'EACCES',
  'Operation not permitted': 'EPERM',
  'Not a directory': 'ENOTDIR',
};

/** One line of find's stderr: `find: '<path>': <strerror>`, or some other complaint. */
export function parseFindError(line: string): { path: string | null; error: Error } {
  const m = /^find: '(.*)': ([^:]+)$/.exec(line);
  if (!m) return { path: null, error: new Error(line.replace(/^find: /, '')) };
  const text = m[2]!;
  return { path: m[1]!, error: Object.assign(new Error(text), { code: ERRNO_TEXT[text] }) };
}
