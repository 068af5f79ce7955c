// Path hashes with a few bits each, in one Float64Array and one Uint8Array (open addressing). A
// JS Map would box every hash above 2^31 as a heap number: about five times the memory on a layer
// of a million paths. One probe answers every question about a path.
const EMPTY = -1;
const TWO_21 = 2 ** 21;

export class HashFlags {
  private keys = new Float64Array(64).fill(EMPTY);
  private bits = new Uint8Array(64);
  private count = 0;

  get size(): number {
    return this.count;
  }

  private slot(hash: number, mask: number): number {
    // ToInt32 keeps the low 32 bits of each integer part: both hash lanes reach the slot.
    return (hash ^ (hash / TWO_21)) & mask;
  }

  /** The bits marked on `hash`; 0 when it was never marked. */
  get(hash: number): number {
    const keys = this.keys;
    const mask = keys.length - 1;
    for (let s = this.slot(hash, mask); ; s = (s + 1) & mask) {
      const k = keys[s]!;
      if (k === hash) return this.bits[s]!;
      if (k === EMPTY) return 0;
    }
  }

  /** Adds `flags` (non-zero) to the bits of `hash`. */
  mark(hash: number, flags: number): void {
    if ((this.count + 1) * 2 > this.keys.length) this.rehash(this.keys.length * 2);
    const keys = this.keys;
    const mask = keys.length - 1;
    for (let s = this.slot(hash, mask); ; s = (s + 1) & mask) {
      const k = keys[s]!;
      if (k === hash) {
        this.bits[s]! |= flags;
        return;
      }
      if (k === EMPTY) {
        keys[s] = hash;
        this.bits[s] = flags;
        this.count += 1;
        return;
      }
    }
  }

  /** Makes room for `n` more keys at once: one allocation instead of a rehash at every doubling. */
  reserve(n: number): void {
    let size = this.keys.length;
    while ((this.count + n) * 2 > size) size *= 2;
    if (size > this.keys.length) this.rehash(size);
  }

  private rehash(size: number): void {
    const keys = this.keys;
    const bits = this.bits;
    this.keys = new Float64Array(size).fill(EMPTY);
    this.bits = new Uint8Array(size);
    this.count = 0;
    for (let s = 0; s < keys.length; s++) if (keys[s] !== EMPTY) this.mark(keys[s]!, bits[s]!);
  }
}
