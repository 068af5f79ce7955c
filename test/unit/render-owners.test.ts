import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import type { OwnerReport, Report } from '../../agent/model/report.js';
import { ReportMetrics } from '../../agent/render/metrics.js';
import { renderText } from '../../agent/render/text.js';
import { report as sharingReport, WEB } from '../support/sharing-report.js';

const MiB = 1024 * 1024;
const DB = 'd'.repeat(64);

const shop: OwnerReport = {
  kind: 'compose-project',
  name: 'shop',
  containers: [WEB, DB],
  services: { [WEB]: 'web', [DB]: 'db' },
  disk: { writable: 3 * MiB, logs: 1 * MiB, volumes: 20 * MiB, imagesExclusive: 10 * MiB, imagesShared: 80 * MiB },
};
const team: OwnerReport = {
  kind: 'label',
  name: 'team=payments',
  containers: [WEB],
  disk: { writable: 2 * MiB, logs: 1 * MiB, volumes: 0, imagesExclusive: 0, imagesShared: 90 * MiB },
};
const withOwners = (owners: OwnerReport[]): Report => ({ ...sharingReport(), owners });

describe('renderText: owners', () => {
  it('lists owners biggest first by what removing one frees, compose containers by service', () => {
    const text = renderText(withOwners([team, shop]));
    const lines = text.split('\n');
    const at = lines.findIndex((l) => l.startsWith('Owners (2'));
    assert.ok(at > 0, text);
    assert.match(lines[at + 1]!, /KIND +NAME +CONTAINERS +WRITABLE +LOGS +VOLUMES +IMG EXCL +IMG SHARED/);
    assert.match(lines[at + 2]!, /^ {2}compose-project +shop +web, db +3\.0 MiB +1\.0 MiB +20\.0 MiB +10\.0 MiB +80\.0 MiB$/);
    // A label owner's containers go by name (the sharing report's container is `web`).
    assert.match(lines[at + 3]!, /^ {2}label +team=payments +web +2\.0 MiB +1\.0 MiB +0 B +0 B +90\.0 MiB$/);
    assert.ok(text.indexOf('Owners (') > text.indexOf('Volumes'), 'after the volumes');
  });

  it('has no Owners section when there are none', () => {
    assert.doesNotMatch(renderText(withOwners([])), /Owners/);
  });
});

describe('ReportMetrics: layerdu_owner_bytes', () => {
  it('exports every scope of every owner, and drops an owner that is gone', async () => {
    const m = new ReportMetrics(new Registry());
    m.update(withOwners([shop, team]));
    const text = await m.registry.metrics();
    const series = text.split('\n').filter((l) => l.startsWith('layerdu_owner_bytes{'));
    assert.equal(series.length, 10);
    assert.ok(series.includes(`layerdu_owner_bytes{kind="compose-project",name="shop",scope="images_exclusive"} ${10 * MiB}`), series.join('\n'));
    assert.ok(series.includes(`layerdu_owner_bytes{kind="compose-project",name="shop",scope="volumes"} ${20 * MiB}`));
    assert.ok(series.includes(`layerdu_owner_bytes{kind="label",name="team=payments",scope="images_shared"} ${90 * MiB}`));
    for (const scope of ['writable', 'logs', 'volumes', 'images_exclusive', 'images_shared']) {
      assert.ok(series.some((l) => l.includes(`name="shop",scope="${scope}"`)), scope);
    }
    m.update(withOwners([shop]));
    assert.doesNotMatch(await m.registry.metrics(), /team=payments/);
  });
});
