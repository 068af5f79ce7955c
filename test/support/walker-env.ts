// Runs a walk under the walker a test asks for: GNU find (LAYERDU_WALKER unset) or the Node
// walker's processes (LAYERDU_WALKER=node), putting the variable back as it was after.
export async function withWalker<T>(walker: 'find' | 'node', work: () => Promise<T>): Promise<T> {
  const saved = process.env.LAYERDU_WALKER;
  if (walker === 'node') process.env.LAYERDU_WALKER = 'node';
  else delete process.env.LAYERDU_WALKER;
  try {
    return await work();
  } finally {
    if (saved === undefined) delete process.env.LAYERDU_WALKER;
    else process.env.LAYERDU_WALKER = saved;
  }
}
