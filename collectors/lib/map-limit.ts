// A few at a time, in order: for readers of thousands of small metadata files. One after the
// other, each read waits its turn behind the walks' in libuv's thread pool; all at once, they
// would hold thousands of descriptors and push the walks back.
import type { Problem } from './facts.js';

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

/** Metadata files read at once by each reader: enough to keep a few reads queued beside the walks, few descriptors. */
export const READS_AT_ONCE = 16;

/**
 * A reader's `read` on every item, READS_AT_ONCE at a time: the results in the items' order
 * without the nulls (items skipped), and each item's problems in that order too.
 */
export async function readEach<T, R>(items: readonly T[], problems: Problem[], read: (item: T, problems: Problem[]) => Promise<R | null>): Promise<R[]> {
  const done = await mapLimit(items, READS_AT_ONCE, async (item) => {
    const own: Problem[] = [];
    return { value: await read(item, own), problems: own };
  });
  for (const d of done) problems.push(...d.problems);
  return done.flatMap((d) => (d.value === null ? [] : [d.value]));
}
