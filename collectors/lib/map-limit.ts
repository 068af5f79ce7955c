// A few at a time, in order: for readers of thousands of small metadata files. One after the
// other, each read waits its turn behind the walks' in libuv's thread pool; all at once, they
// would hold thousands of descriptors and push the walks back.

/** `work` on every item, at most `width` at once; the results in the items' order. */
export async function mapLimit<T, R>(items: readonly T[], width: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, lane));
  return out;
}
