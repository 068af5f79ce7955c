// A garbage collection asked for, where a big index's memory is let go of. V8 frees an
// ArrayBuffer's memory only once it collects the object holding it, and a process that makes few
// objects (the agent putting an index together, reading it off a walker's channel) collects
// rarely: the chunks a finished index was copied from, and the messages its chunks came in, stay
// beside it until then (2M entries: 55 MiB of chunks, one message of 1.8 MiB a chunk). With
// few objects on the heap a collection takes a few milliseconds (a minor one under one).
// `gc` is there only with --expose-gc; set at run time, the flag gives it to new contexts (as Jest
// does for its leak checks).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Gc = (options?: { type: 'major' | 'minor' }) => void;
let gc: Gc | null | undefined;
let forced = true;

/**
 * Whether collections are asked for (default yes). The agent says no: with its heap (the report,
 * the registry's series) a major collection holds its thread for tens of milliseconds, two a
 * column of a big index, and scrapes come first there; V8 collects on its own schedule.
 */
export function forceCollections(on: boolean): void {
  forced = on;
}

/**
 * A major collection is asked for twice: the memory of the buffers one finds dead is given back
 * by a sweep that may still run beside this thread, and the next collection finishes it (one
 * alone left the chunks of 2 of 3 columns in place; two, none).
 */
export function collectGarbage(type: 'major' | 'minor' = 'major'): void {
  if (!forced) return;
  if (gc === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as Gc;
    } catch {
      gc = null;
    }
  }
  if (!gc) return;
  if (type === 'minor') gc({ type });
  else {
    gc();
    gc();
  }
}
