// The single executable's main script (bundled to CommonJS by packaging/bundle.ts: Node 20 runs no
// ES module as a single executable's main, hence no top-level await here). Started by
// collectors/walk/walk-pool.ts as a walker child (collectors/host/sea.ts), it walks; else it is
// layerdu, as agent/cli/main.ts is for the npm build.
import { SEA_WALK_CHILD } from '../../collectors/host/sea.js';

if (process.argv[2] === SEA_WALK_CHILD) void import('../../collectors/walk/walk-child.js');
else void import('../../agent/cli/start.js').then((m) => m.start());
