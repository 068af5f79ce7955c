#!/usr/bin/env node
// The `layerdu` executable. Walker processes boot while the flags are parsed (both take about a
// tenth of a second, and every run but --help and --version walks); they leave with this process.
import { prepareWalkers } from '../collectors/walk-tree.js';

if (!process.argv.some((a) => a === '--help' || a === '--version')) prepareWalkers();
const { run } = await import('./command.js');
await run();
