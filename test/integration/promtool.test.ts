// The rules through promtool alone (no daemon, no agent): every rule is valid, every rule's unit
// tests pass, every alert has a test where it fires and one where it stays quiet, and every
// recording rule (the fleet dashboard's) a test asserting its values.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '../support/oracles.js';
import { PROMTOOL } from '../support/prometheus.js';

const DASHBOARDS = path.join(REPO_ROOT, 'dashboards');
const RULES = path.join(DASHBOARDS, 'layerdu.rules.yml');
const RULE_TESTS = path.join(DASHBOARDS, 'layerdu.rules.test.yml');

describe('alert rules: promtool', () => {
  before(function () {
    assert.ok(existsSync(PROMTOOL), `${PROMTOOL} not found (apt-get install -y prometheus)`);
  });

  it('promtool check rules finds every rule valid', () => {
    const r = spawnSync(PROMTOOL, ['check', 'rules', RULES], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /SUCCESS: \d+ rules found/);
  });

  it('promtool test rules passes the unit tests of every rule', async () => {
    const r = spawnSync(PROMTOOL, ['test', 'rules', RULE_TESTS], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /SUCCESS/);
    // every alert of the rule file has a test
    const rules = parse(await readFile(RULES, 'utf8')) as { groups: Array<{ rules: Array<{ alert?: string; record?: string }> }> };
    const tests = parse(await readFile(RULE_TESTS, 'utf8')) as {
      tests: Array<{
        alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] }>;
        promql_expr_test?: Array<{ expr: string; exp_samples?: Array<{ labels?: string }> }>;
      }>;
    };
    const fired = new Set(tests.tests.flatMap((t) => t.alert_rule_test ?? []).filter((t) => (t.exp_alerts ?? []).length > 0).map((t) => t.alertname));
    const quiet = new Set(tests.tests.flatMap((t) => t.alert_rule_test ?? []).filter((t) => (t.exp_alerts ?? []).length === 0).map((t) => t.alertname));
    // every recording rule has a test that evaluates it and expects samples of it
    const recorded = new Set(
      tests.tests
        .flatMap((t) => t.promql_expr_test ?? [])
        .filter((t) => (t.exp_samples ?? []).some((e) => e.labels?.startsWith(`${t.expr.trim()}{`)))
        .map((t) => t.expr.trim()),
    );
    const records = rules.groups.flatMap((g) => g.rules).flatMap((r) => (r.record ? [r.record] : []));
    assert.ok(records.length > 0, 'the fleet group records series');
    for (const record of records) assert.ok(recorded.has(record), `${record} has no promql_expr_test asserting its samples`);
    for (const rule of rules.groups.flatMap((g) => g.rules)) {
      if (!rule.alert) continue;
      assert.ok(fired.has(rule.alert), `${rule.alert} has no test where it fires`);
      assert.ok(quiet.has(rule.alert), `${rule.alert} has no test where it stays quiet`);
    }
  });
});
