#!/usr/bin/env node
// The `layerdu` executable of the npm build (start.ts says what it starts, in which order).
import { start } from './start.js';

await start();
