// layerdu(1), written from the executable's own `--help`, so the page says what the binary does:
// each option of its Options section with its description, type and default, its examples, and
// what the help leaves out (environment, exit status, the package's files).

/** One option of `--help`: its flag and the rest of its entry on one line. */
export interface HelpOption {
  flag: string;
  text: string;
}

export interface Help {
  usage: string;
  description: string;
  options: HelpOption[];
  examples: string[];
}

/** Reads yargs' help text: the usage line, the description, the options (wrapped lines joined), the examples. */
export function parseHelp(help: string): Help {
  const lines = help.replace(/\s+$/, '').split('\n');
  const at = (title: string) => lines.indexOf(title);
  const [opts, exs] = [at('Options:'), at('Examples:')];
  if (opts < 0 || exs < opts) throw new Error('--help has no Options: and Examples: sections');
  const options: HelpOption[] = [];
  for (const line of lines.slice(opts + 1, exs)) {
    const m = /^ {2}(--[\w.-]+)\s+(.*)$/.exec(line);
    if (m) options.push({ flag: m[1]!, text: m[2]! });
    else if (line.trim() !== '' && options.length > 0) options[options.length - 1]!.text += ` ${line.trim()}`;
  }
  for (const o of options) o.text = o.text.replace(/\s+/g, ' ').trim();
  const head = lines.slice(0, opts).join('\n').trim().split(/\n\s*\n/);
  return {
    usage: head[0]!.trim(),
    description: head.slice(1).join(' ').replace(/\s+/g, ' ').trim(),
    options,
    examples: lines.slice(exs + 1).filter((l) => l.trim() !== '').map((l) => l.replace(/^ {2}/, '')),
  };
}

/** Text for roff: backslashes escaped, minus signs as such, no line read as a request. */
function roff(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .split('\n')
    .map((l) => (/^[.']/.test(l) ? `\\&${l}` : l))
    .join('\n');
}

export interface PageFacts {
  version: string;
  /** The date of the page, YYYY-MM-DD. */
  date: string;
}

/** The page, in man(7) roff. */
export function manPage(help: Help, facts: PageFacts): string {
  const out = [
    `.TH LAYERDU 1 "${facts.date}" "layerdu ${facts.version}" "User Commands"`,
    '.SH NAME',
    'layerdu \\- true disk usage of a Docker host, for Prometheus',
    '.SH SYNOPSIS',
    '.B layerdu',
    '.RB [ \\-\\-report ]',
    '.RI [ options ]',
    '.SH DESCRIPTION',
    roff(help.description),
    '.PP',
    roff(
      'With --report, layerdu scans once and prints the report (--format text, json, prom or dot) and exits. ' +
        'Without it, layerdu is the agent: it scans at start and on --scan.schedule, and serves the last finished scan as Prometheus metrics on --web.listen-address. ' +
        'It reads the docker root and never writes, locks or deletes anything there; the Docker API gets GET requests only.',
    ),
    '.SH OPTIONS',
    ...help.options.flatMap((o) => ['.TP', `.B ${roff(o.flag)}`, roff(o.text)]),
    '.SH ENVIRONMENT',
    roff('Every option can also be set by environment: --web.listen-address is LAYERDU_WEB_LISTEN_ADDRESS, and so on (each option above names its variable); a repeatable option takes its values separated by commas.'),
    '.TP',
    '.B LAYERDU_WALKER=node',
    roff('Every walk uses the Node walker instead of GNU find: the figures are the same, only slower.'),
    '.TP',
    '.B DOCKER_HOST',
    roff('The default of --docker-host.'),
    '.SH EXIT STATUS',
    roff('0 when the report was printed or the agent stopped; 2 for a bad option or value (one line on standard error); 1 when the docker root cannot be read. Any other problem is named once on standard error (and in the JSON errors list) and the scan goes on.'),
    '.SH FILES',
    '.TP',
    '.I /etc/default/layerdu',
    roff("The service's environment: LAYERDU_OPTS (words added to its command line) and any LAYERDU_* variable."),
    '.TP',
    '.I /lib/systemd/system/layerdu.service',
    roff('The service: installed, not enabled (systemctl enable --now layerdu).'),
    '.TP',
    '.I /usr/share/layerdu/',
    roff('Grafana dashboards and their provisioning file, the Prometheus alert and recording rules with their promtool tests, and an Alertmanager route for the alerts.'),
    '.SH EXAMPLES',
    '.nf',
    roff(help.examples.join('\n')),
    '.fi',
    '.SH SEE ALSO',
    '.BR systemctl (1),',
    '.BR du (1),',
    '.I /usr/share/doc/layerdu/README.md.gz',
    '',
  ];
  return out.join('\n');
}
