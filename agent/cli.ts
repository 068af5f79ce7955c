#!/usr/bin/env node
// The command line. Errors that carry an exit code are caught here, once.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { parseDockerHost } from '../collectors/docker-api.js';
import { renderJson } from './render-json.js';
import { renderProm } from './render-prom.js';
import { renderText } from './render-text.js';
import { scan, ScanAbort } from './scan.js';

const FORMATS = ['text', 'json', 'prom'] as const;

function fail(message: string, code: number): never {
  process.stderr.write(`layerdu: ${message}\n`);
  process.exit(code);
}

async function main(argv: string[]): Promise<void> {
  const args = await yargs(argv)
    .scriptName('layerdu')
    .usage('$0 [--report] [options]\n\nWhere did the disk go on this Docker host? True shared and unique bytes of layers, containers, logs, volumes and build cache.')
    .option('report', { type: 'boolean', default: false, describe: 'Scan once, print the report and exit' })
    .option('format', { choices: FORMATS, default: 'text' as const, describe: 'Report format' })
    .option('docker-root', { type: 'string', default: '/var/lib/docker', describe: "The daemon's data root" })
    .option('docker-host', {
      type: 'string',
      default: process.env.DOCKER_HOST || 'unix:///var/run/docker.sock',
      defaultDescription: '$DOCKER_HOST, else unix:///var/run/docker.sock',
      describe: 'The Docker Engine API (only GET requests are made)',
    })
    .option('docker-timeout', { type: 'number', default: 10, describe: 'Seconds to wait for the Docker API' })
    .check((a) => {
      parseDockerHost(a['docker-host']);
      if (!(a['docker-timeout'] > 0)) throw new Error('--docker-timeout must be a positive number of seconds');
      return true;
    })
    .example('$0 --report', 'Audit this host once, for a person')
    .example('$0 --report --format json | jq .totals', 'The same figures as JSON')
    .strict()
    .fail((msg, err) => fail((msg || err?.message || 'bad arguments').split('\n')[0]!, 2))
    .help()
    .version()
    .parseAsync();

  if (!args.report) fail('the agent mode is not built yet; run with --report', 2);

  const report = await scan({
    dockerRoot: args['docker-root'],
    dockerHost: args['docker-host'],
    apiTimeoutMs: args['docker-timeout'] * 1000,
  });
  for (const e of report.errors) process.stderr.write(`layerdu: ${e.source}: ${e.path ? `${e.path}: ` : ''}${e.message}\n`);
  const out =
    args.format === 'json' ? renderJson(report) : args.format === 'prom' ? await renderProm(report) : renderText(report, { color: process.stdout.isTTY });
  process.stdout.write(out);
}

main(hideBin(process.argv)).catch((e: unknown) => {
  if (e instanceof ScanAbort) fail(e.message, e.exitCode);
  fail(`unexpected failure: ${(e as Error)?.stack ?? String(e)}`, 1);
});
