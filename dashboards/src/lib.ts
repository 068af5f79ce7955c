// Building blocks shared by the layerdu dashboards: the datasource and instance variables, PromQL
// selectors that always carry the instance filter, queries, and the Board that lays panels out
// (the panel factories are in panels.ts).
// Every panel and every query names the datasource `${datasource}` (a datasource variable), never a
// fixed uid or a `${DS_…}` import input, so the JSON provisions as is on any Grafana.
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';

export const DATASOURCE: common.DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

/** The filter every selector carries, so one dashboard serves one host or a fleet. */
export const INSTANCE = 'instance=~"$instance"';

/** `metric{instance=~"$instance", …matchers}` */
export function sel(metric: string, ...matchers: string[]): string {
  return `${metric}{${[INSTANCE, ...matchers].join(', ')}}`;
}

export function datasourceVariable(): dashboard.DatasourceVariableBuilder {
  return new dashboard.DatasourceVariableBuilder('datasource').label('Data source').type('prometheus');
}

export function instanceVariable(): dashboard.QueryVariableBuilder {
  return new dashboard.QueryVariableBuilder('instance')
    .label('Host')
    .description('layerdu agents (the instance label of layerdu_scan_success)')
    .datasource(DATASOURCE)
    .query('label_values(layerdu_scan_success, instance)')
    .definition('label_values(layerdu_scan_success, instance)')
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue('.*')
    .current({ selected: true, text: 'All', value: '$__all' });
}

/** How many hosts a ranking shows: `topk($top, …)`, chosen on the dashboard (the fleet's). */
export function topVariable(values: number[], chosen: number): dashboard.CustomVariableBuilder {
  const option = (n: number) => ({ selected: n === chosen, text: String(n), value: String(n) });
  return new dashboard.CustomVariableBuilder('top')
    .label('Top')
    .description('How many hosts each ranking shows')
    .values(values.join(','))
    .current(option(chosen))
    .options(values.map(option));
}

export interface QueryOptions {
  legend?: string;
  /** Evaluate at the end of the range only (tables, bar gauges, current values). */
  instant?: boolean;
  /** Table rows instead of time series (instant table panels). */
  table?: boolean;
}

export function query(refId: string, expr: string, opts: QueryOptions = {}): prometheus.DataqueryBuilder {
  const q = new prometheus.DataqueryBuilder().datasource(DATASOURCE).refId(refId).expr(expr);
  q.editorMode(prometheus.QueryEditorMode.Code);
  if (opts.legend !== undefined) q.legendFormat(opts.legend);
  if (opts.instant) q.instant();
  else q.range();
  if (opts.table) q.format(prometheus.PromQueryFormat.Table);
  return q;
}

type PanelBuilder = cog.Builder<dashboard.Panel>;

/** A dashboard under construction: panels get ids in order and flow left to right, row by row. */
export class Board {
  private nextId = 1;
  readonly builder: dashboard.DashboardBuilder;

  constructor(uid: string, title: string, description: string) {
    this.builder = new dashboard.DashboardBuilder(title)
      .uid(uid)
      .description(description)
      .tags(['layerdu', 'docker', 'disk'])
      .editable()
      .tooltip(dashboard.DashboardCursorSync.Crosshair)
      .timezone('browser')
      .time({ from: 'now-24h', to: 'now' })
      .refresh('1m')
      .annotation(
        new dashboard.AnnotationQueryBuilder()
          .name('Annotations & Alerts')
          .builtIn(1)
          .type('dashboard')
          .datasource({ type: 'grafana', uid: '-- Grafana --' })
          .enable(true)
          .hide(true)
          .iconColor('rgba(0, 211, 255, 1)'),
      )
      .annotation(
        new dashboard.AnnotationQueryBuilder()
          .name('layerdu alerts')
          .datasource(DATASOURCE)
          .enable(true)
          .hide(false)
          .iconColor('red')
          .expr(`ALERTS{alertname=~"Layerdu.+", alertstate="firing", ${INSTANCE}}`)
          .step('1m')
          .titleFormat('{{alertname}}')
          .textFormat('{{instance}}'),
      )
      .withVariable(datasourceVariable())
      .withVariable(instanceVariable())
      .link(
        new dashboard.DashboardLinkBuilder('layerdu')
          .type(dashboard.DashboardLinkType.Dashboards)
          .tags(['layerdu'])
          .asDropdown(false)
          .includeVars(true)
          .keepTime(true),
      );
  }

  row(title: string): this {
    this.builder.withRow(new dashboard.RowBuilder(title).id(this.nextId++));
    return this;
  }

  add(panel: { id(n: number): unknown } & PanelBuilder): this {
    panel.id(this.nextId++);
    this.builder.withPanel(panel);
    return this;
  }

  build(): dashboard.Dashboard {
    return this.builder.build();
  }
}

export type { PanelBuilder };
