// The agent's one thread runs its scrapes and its scan's background work: reading the finds'
// records (walk/find-walk.ts) and the stepped analyses (waste, copy-up). Background work runs in
// slices, one a turn of the event loop. A request takes several turns (its headers, the
// rendering, which waits a turn for the event-loop lag, the write): fifty scrapes that arrive
// at once would each wait behind several full slices. While one is being answered, slices are
// short; they never stop, so a flood of scrapes slows a scan and cannot starve it.

/** A slice's length while no request is being answered. */
export const BACKGROUND_SLICE_MS = 5;
/** ... and while one is. */
export const SERVING_SLICE_MS = 1;

let requests = 0;

/** Marks a request as being answered until the returned function is called; a second call does nothing. */
export function answering(): () => void {
  requests += 1;
  let done = false;
  return () => {
    if (done) return;
    done = true;
    requests -= 1;
  };
}

/** How long background work may hold the thread this turn. */
export function sliceMs(): number {
  return requests > 0 ? SERVING_SLICE_MS : BACKGROUND_SLICE_MS;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Runs a stepped computation (a generator that pauses every few thousand entries) to its end,
 * a slice of steps a turn.
 */
export async function runInSlices<T>(steps: Generator<void, T>): Promise<T> {
  for (;;) {
    const until = performance.now() + sliceMs();
    do {
      const r = steps.next();
      if (r.done) return r.value;
    } while (performance.now() < until);
    await nextTurn();
  }
}

const queued: Array<() => void> = [];
let draining = false;

/**
 * Runs `work` (short and synchronous: a small tree's walk) on this thread in turn with the other
 * work given here, as many as fit in a slice a turn: thousands given at once do not hold the thread.
 */
export function inSlice<T>(work: () => T): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    queued.push(() => {
      try {
        resolve(work());
      } catch (e) {
        reject(e);
      }
    });
    if (!draining) {
      draining = true;
      setImmediate(drain);
    }
  });
}

function drain(): void {
  const until = performance.now() + sliceMs();
  let done = 0;
  while (done < queued.length && performance.now() < until) queued[done++]!();
  queued.splice(0, done);
  if (queued.length > 0) setImmediate(drain);
  else draining = false;
}
