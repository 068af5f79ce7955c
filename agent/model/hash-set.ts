// A set of path hashes in one Float64Array (open addressing). A JS Set would box every hash above
// 2^31 as a heap number: about five times the memory on a layer of a million paths.
const EMPTY = -1;
const TWO_21 = 2 ** 21;

export class HashSet {
  private keys = new Float64Array(64).fill(EMPTY);
  private count = 0;

  get size(): number {
    return this.count;
  }

  private slot(hash: number, mask: number): number {
    return ((hash % TWO_21) ^ Math.floor(hash / TWO_21)) & mask;
  }

  has(hash: number): boolean {
    const mask = this.keys.length - 1;
    for (let s = this.slot(hash, mask); ; s = (s + 1) & mask) {
      const k = this.keys[s]!;
      if (k === hash) return true;
      if (k === EMPTY) return false;
    }
  }

  add(hash: number): void {
    if ((this.count + 1) * 2 > this.keys.length) this.grow();
    const mask = this.keys.length - 1;
    for (let s = this.slot(hash, mask); ; s = (s + 1) & mask) {
      const k = this.keys[s]!;
      if (k === hash) return;
      if (k === EMPTY) {
        this.keys[s] = hash;
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

  private grow(): void {
    this.rehash(this.keys.length * 2);
  }

  private rehash(size: number): void {
    const old = this.keys;
    this.keys = new Float64Array(size).fill(EMPTY);
    this.count = 0;
    for (const k of old) if (k !== EMPTY) this.add(k);
  }
}
