// Runs a walk under the walker a test asks for: GNU find (LAYERDU_WALKER unset) or the Node
// walker's processes (LAYERDU_WALKER=node), putting the variable back as it was after.
// Walks may overlap (Promise.all of a few walks under one walker): the variable is put back when
// the last of them ends, as it was before the first began. Overlapping walks share the variable,
// so they must ask for the same walker.
let running = 0;
let before: { walker: 'find' | 'node'; saved: string | undefined } | null = null;

export async function withWalker<T>(walker: 'find' | 'node', work: () => Promise<T>): Promise<T> {
  if (running === 0) before = { walker, saved: process.env.LAYERDU_WALKER };
  else if (before!.walker !== walker) throw new Error(`withWalker: a ${walker} walk overlapping a ${before!.walker} walk`);
  running += 1;
  if (walker === 'node') process.env.LAYERDU_WALKER = 'node';
  else delete process.env.LAYERDU_WALKER;
  try {
    return await work();
  } finally {
    running -= 1;
    if (running === 0) {
      const { saved } = before!;
      if (saved === undefined) delete process.env.LAYERDU_WALKER;
      else process.env.LAYERDU_WALKER = saved;
      before = null;
    }
  }
}
