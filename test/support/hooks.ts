// Mocha root hooks (loaded by .mocharc.json `require`): stop every daemon the tests started,
// the shared fixture's and containerd nodes included, once all tests are done, and on Ctrl-C.
import { stopAllNodes } from './containerd-node.js';
import { stopAllDaemons } from './dockerd.js';
import { stopFixture } from './fixture-host.js';

async function cleanUp(): Promise<void> {
  await stopFixture();
  try {
    await stopAllNodes();
  } finally {
    await stopAllDaemons();
  }
}

let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`\n${sig}: stopping test daemons…\n`);
    cleanUp().finally(() => process.exit(130));
  });
}

export const mochaHooks = {
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(180_000);
    await cleanUp();
  },
};
