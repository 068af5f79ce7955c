// The committed dashboards against Grafana's own model: the JSON schema derived from the Grafana
// SDK's types (dashboards/src/schema.ts, committed as dashboards/schema/dashboard.schema.json).
// Every dashboard meets it, the committed schema is what the installed SDK gives, and dashboards
// broken in the ways Grafana would reject or silently ignore fail it. (No Grafana server here:
// test/e2e/prometheus.test.ts runs every panel query on a real Prometheus.)
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { SCHEMA_FILE, dashboardSchema, schemaText } from '../../dashboards/src/schema.js';
import { REPO_ROOT } from '../support/oracles.js';

const DIR = path.join(REPO_ROOT, 'dashboards');
const FILES = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();

// Dashboards as plain JSON, to be broken at will.
type Json = Record<string, any>;

function validator(): ValidateFunction {
  return new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as object);
}

const load = (f: string): Json => JSON.parse(readFileSync(path.join(DIR, f), 'utf8')) as Json;

/** The first panel of `d` of type `type`, rows' panels included. */
function firstOf(d: Json, type: string): Json {
  const all = (d.panels as Json[]).flatMap((p) => [p, ...((p.panels as Json[] | undefined) ?? [])]);
  const p = all.find((x) => x.type === type);
  assert.ok(p, `no ${type} panel`);
  return p;
}

describe('Grafana dashboards: the SDK schema', () => {
  let validate: ValidateFunction;
  before(() => {
    validate = validator();
  });

  it('the committed schema is what the installed SDK gives (npm run dashboards:schema)', function () {
    this.timeout(180_000);
    assert.equal(readFileSync(SCHEMA_FILE, 'utf8'), schemaText(dashboardSchema()), 'dashboards/schema/dashboard.schema.json drifted: run npm run dashboards:schema');
  });

  it('every committed dashboard meets it', () => {
    assert.ok(FILES.length >= 3, FILES.join(', '));
    for (const f of FILES) assert.ok(validate(load(f)), `${f}: ${JSON.stringify(validate.errors?.slice(0, 5), null, 1)}`);
  });

  const BROKEN: Array<[string, (d: Json) => void]> = [
    ['a property the model does not have', (d) => (d.refreshInterval = '1m')],
    ['a panel type no plugin of these dashboards has', (d) => (firstOf(d, 'timeseries').type = 'timeserie')],
    ['a grid position as text', (d) => (firstOf(d, 'stat').gridPos.w = '6')],
    ['a Prometheus query without its expression', (d) => delete firstOf(d, 'timeseries').targets[0].expr],
    ['a misspelt query field', (d) => (firstOf(d, 'table').targets[0].legendFromat = '{{instance}}')],
    ['a time series legend mode Grafana does not know', (d) => (firstOf(d, 'timeseries').options.legend.displayMode = 'sideways')],
    ['a stat option of the wrong type', (d) => (firstOf(d, 'stat').options.graphMode = true)],
    ['a table column option that does not exist', (d) => (firstOf(d, 'table').fieldConfig.defaults.custom.wrapText = 'yes please')],
    ['variables under a key templating does not have', (d) => (d.templating = { variables: d.templating.list })],
  ];

  for (const [what, breakIt] of BROKEN) {
    it(`fails a dashboard with ${what}`, () => {
      const d = load('layerdu-overview.json');
      breakIt(d);
      assert.equal(validate(d), false, `${what}: passed the schema`);
    });
  }
});
