// The Alertmanager example (dashboards/alertmanager.example.yml) through amtool alone: it is a
// valid configuration, and every alert of dashboards/layerdu.rules.yml, with its severity, reaches
// the receiver of that severity.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { findExecutable } from '../support/dockerd.js';
import { REPO_ROOT } from '../support/oracles.js';

const CONFIG = path.join(REPO_ROOT, 'dashboards', 'alertmanager.example.yml');
const RULES = path.join(REPO_ROOT, 'dashboards', 'layerdu.rules.yml');

function amtool(args: string[]): { status: number | null; out: string } {
  const r = spawnSync(findExecutable('amtool') ?? 'amtool', args, { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe('Alertmanager example: amtool', () => {
  before(function () {
    assert.ok(findExecutable('amtool'), 'amtool not found (apt-get install -y prometheus-alertmanager)');
  });

  it('amtool check-config finds it valid', () => {
    const r = amtool(['check-config', CONFIG]);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /SUCCESS/);
    assert.match(r.out, /3 receivers/);
  });

  it('and finds a broken copy invalid (a route to a receiver that does not exist)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'layerdu-am-'));
    try {
      const broken = path.join(dir, 'broken.yml');
      writeFileSync(broken, readFileSync(CONFIG, 'utf8').replace('receiver: layerdu-critical', 'receiver: nobody'));
      assert.notEqual(amtool(['check-config', broken]).status, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('routes every alert of the rules to the receiver of its severity', () => {
    const rules = parse(readFileSync(RULES, 'utf8')) as { groups: Array<{ rules: Array<{ alert?: string; labels?: { severity?: string } }> }> };
    const alerts = rules.groups.flatMap((g) => g.rules).filter((r) => r.alert);
    assert.ok(alerts.length >= 8, `${alerts.length} alerts`);
    for (const a of alerts) {
      const severity = a.labels?.severity;
      assert.ok(severity, `${a.alert} has no severity`);
      const r = amtool(['config', 'routes', 'test', `--config.file=${CONFIG}`, `--verify.receivers=layerdu-${severity}`, `alertname=${a.alert}`, `severity=${severity}`, 'instance=dockerhost1:9786']);
      assert.equal(r.status, 0, `${a.alert} (${severity}): ${r.out}`);
    }
  });
});
