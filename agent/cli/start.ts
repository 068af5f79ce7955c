// What the `layerdu` executable does (main.ts for the npm build, packaging/sea/entry.ts for the
// single executable). What every scan needs starts before the flags are parsed, while one core is
// still idle: the API client's thread for a one-off report (first: it has the most to load), then
// the GNU find probe (or the walker processes; a report starts its finds itself).
import { guessDockerHost, preloadDockerApi } from '../../collectors/sources/docker-api-thread.js';

export async function start(): Promise<void> {
  if (!process.argv.some((a) => a === '--help' || a === '--version')) {
    const report = process.argv.includes('--report');
    if (report) preloadDockerApi(guessDockerHost(process.argv, process.env));
    const walkers = await import('../../collectors/walk/walk-tree.js');
    if (report) walkers.startFindsHere();
    walkers.prepareWalkers();
  }
  const { run } = await import('./command.js');
  await run();
}
