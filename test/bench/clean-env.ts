// Imported first by every bench entry point (run.ts, load-run.ts, cold-run.ts): what this
// workplace sets for its own tools, which every Node process pays at start and a layerdu install
// has not. NODE_EXTRA_CA_CERTS makes Node read and parse a CA bundle before any code runs: about
// 85 ms of each start on this machine (`node -e 0` 0.13 s with it, 0.045 s without), a third of a
// cached report. The processes the bench times start without it; results.ts's host says which
// variables were dropped.
const NOT_LAYERDUS = ['NODE_EXTRA_CA_CERTS'];

export const droppedEnv: readonly string[] = NOT_LAYERDUS.filter((k) => process.env[k] !== undefined);
for (const k of droppedEnv) delete process.env[k];
