// Typed fields of one containerd record: a bucket of the tree parseTree builds. Each accessor
// names the key it reads and is a problem, not a guess, when the bytes are not what containerd
// writes. done() names every entry no accessor read: a field a newer containerd adds may account
// for bytes we would otherwise miss, so it is said, not skipped.
import { keyText, report, textOf, type BoltNode, type ParseContext } from './bolt-tree.js';
import { isDigest } from './digest.js';
import { parseGoTime, parseUvarint, parseVarint } from './varint.js';

/** A raw key for a message: its text, or its bytes in hex when it is not UTF-8. */
export function shownKey(raw: string): string {
  const text = keyText(raw);
  return text === null ? `0x${Buffer.from(raw, 'latin1').toString('hex')}` : JSON.stringify(text);
}

export class RecordReader {
  private readonly seen = new Set<string>();

  constructor(
    readonly ctx: ParseContext,
    readonly path: readonly string[],
    readonly node: BoltNode,
  ) {}

  problem(message: string): void {
    report(this.ctx, this.path, message);
  }

  /** The bytes of value `key`; null when absent (a problem when required) or a bucket. */
  raw(key: string, required = false): Buffer | null {
    this.seen.add(key);
    const value = this.node.values.get(key);
    if (value !== undefined) return value;
    if (this.node.buckets.has(key)) this.problem(`${key} is a bucket where a value belongs`);
    // An unreadable bucket was named already; each of its fields is not news.
    else if (required && !this.node.broken) this.problem(`${key} is missing`);
    return null;
  }

  text(key: string, required = false): string | null {
    const value = this.raw(key, required);
    if (value === null) return null;
    const text = textOf(value);
    if (text === null) this.problem(`${key} is not text (not UTF-8, or a NUL byte)`);
    return text;
  }

  digest(key: string, required = false): string | null {
    const text = this.text(key, required);
    if (text === null || isDigest(text)) return text;
    this.problem(`${key} is not a digest: ${JSON.stringify(text)}`);
    return null;
  }

  /** A signed varint that counts bytes or entries: a negative count is as wrong as a torn one. */
  count(key: string, required = false): number | null {
    const value = this.raw(key, required);
    if (value === null) return null;
    const parsed = parseVarint(value);
    if ('error' in parsed) this.problem(`${key}: ${parsed.error}`);
    else if (parsed.value < 0) this.problem(`${key} is negative (${parsed.value})`);
    else return parsed.value;
    return null;
  }

  unsigned(key: string, required = false): number | null {
    const value = this.raw(key, required);
    if (value === null) return null;
    const parsed = parseUvarint(value);
    if ('value' in parsed) return parsed.value;
    this.problem(`${key}: ${parsed.error}`);
    return null;
  }

  time(key: string): string | null {
    const value = this.raw(key);
    if (value === null) return null;
    const time = parseGoTime(value);
    if (time === null) this.problem(`${key} is not a Go binary time (${value.length} bytes)`);
    return time;
  }

  /** The nested bucket `key` as a record; null when absent (a problem when required) or a value. */
  bucket(key: string, required = false): RecordReader | null {
    this.seen.add(key);
    const node = this.node.buckets.get(key);
    if (node !== undefined) return new RecordReader(this.ctx, [...this.path, key], node);
    if (this.node.values.has(key)) this.problem(`${key} is a value where a bucket belongs`);
    else if (required && !this.node.broken) this.problem(`${key} is missing`);
    return null;
  }

  /** Every nested bucket as a record, by its UTF-8 name; plain values here are problems. */
  records(): Array<[string, RecordReader]> {
    const out: Array<[string, RecordReader]> = [];
    for (const [raw, node] of this.node.buckets) {
      this.seen.add(raw);
      const name = keyText(raw);
      if (name === null) this.problem(`skipped ${shownKey(raw)}: its name is not text`);
      else out.push([name, new RecordReader(this.ctx, [...this.path, raw], node)]);
    }
    return out;
  }

  /** A bucket of `name → text` (labels, annotations); absent is empty. */
  labels(key = 'labels'): Map<string, string> {
    const out = new Map<string, string>();
    const sub = this.bucket(key);
    if (sub === null) return out;
    for (const raw of sub.node.values.keys()) {
      const name = keyText(raw);
      const value = sub.raw(raw);
      const text = value === null ? null : textOf(value);
      if (name === null) sub.problem(`skipped ${shownKey(raw)}: its name is not text`);
      else if (text === null) sub.problem(`skipped ${shownKey(raw)}: its value is not text`);
      else out.set(name, text);
    }
    sub.done();
    return out;
  }

  /**
   * A bucket used as a set (lease resources): its keys, values empty. Keys `valid` refuses are
   * problems and left out; absent is empty.
   */
  names(key: string, valid: (name: string) => boolean = () => true): string[] {
    const sub = this.bucket(key);
    if (sub === null) return [];
    const out = sub.keys(valid);
    sub.done();
    return out;
  }

  /** This bucket's own plain keys, as a set (see names). */
  keys(valid: (name: string) => boolean = () => true): string[] {
    const out: string[] = [];
    for (const [raw, value] of this.node.values) {
      this.seen.add(raw);
      const name = keyText(raw);
      if (name === null || !valid(name)) this.problem(`skipped ${shownKey(raw)}: not a valid name here`);
      else {
        if (value.length > 0) this.problem(`${shownKey(raw)} has a value (${value.length} bytes) where none belongs`);
        out.push(name);
      }
    }
    return out;
  }

  /** Marks keys as known and left alone on purpose. */
  ignore(...keys: string[]): void {
    for (const k of keys) this.seen.add(k);
  }

  /** One problem naming every entry nothing read. */
  done(): void {
    const unknown: string[] = [];
    for (const raw of this.node.values.keys()) if (!this.seen.has(raw)) unknown.push(`${shownKey(raw)} (value)`);
    for (const raw of this.node.buckets.keys()) if (!this.seen.has(raw)) unknown.push(`${shownKey(raw)} (bucket)`);
    if (unknown.length > 0) this.problem(`unknown entries left unread: ${unknown.join(', ')}`);
  }
}
