// Every image store layerdu reads. The scan asks each whether it is on the host and measures
// every one it finds.
import { containerdStore } from './containerd/index.js';
import { graphdriverStore } from './graphdriver/index.js';
import type { Store } from './store.js';

export const STORES: readonly Store[] = [graphdriverStore, containerdStore];
