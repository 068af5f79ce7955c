// Building blocks shared by the layerdu dashboards: the datasource and instance variables, PromQL
// selectors that always carry the instance filter, and panel factories with layerdu's defaults.
// Every panel and every query names the datasource `${datasource}` (a datasource variable), never a
// fixed uid or a `${DS_…}` import input, so the JSON provisions as is on any Grafana.
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as statushistory from '@grafana/grafana-foundation-sdk/statushistory';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';

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

export interface Common {
  title: string;
  description: string;
  width: number;
  height: number;
}

const thresholds = (steps: dashboard.Threshold[]) =>
  new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps(steps);

const NEUTRAL = thresholds([{ value: null, color: 'blue' }]);

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

function legend(placement: common.LegendPlacement = common.LegendPlacement.Bottom, asTable = false): common.VizLegendOptionsBuilder {
  return new common.VizLegendOptionsBuilder()
    .showLegend(true)
    .displayMode(asTable ? common.LegendDisplayMode.Table : common.LegendDisplayMode.List)
    .placement(placement)
    .calcs(asTable ? ['lastNotNull', 'max'] : []);
}

export interface TimeseriesOptions extends Common {
  unit: string;
  targets: prometheus.DataqueryBuilder[];
  stack?: boolean;
  legendTable?: boolean;
  fill?: number;
}

export function timeseriesPanel(o: TimeseriesOptions): timeseries.PanelBuilder {
  const p = new timeseries.PanelBuilder()
    .title(o.title)
    .description(o.description)
    .datasource(DATASOURCE)
    .span(o.width)
    .height(o.height)
    .unit(o.unit)
    .min(0)
    .lineWidth(1)
    .fillOpacity(o.fill ?? (o.stack ? 35 : 10))
    .showPoints(common.VisibilityMode.Never)
    .spanNulls(true)
    .legend(legend(o.legendTable ? common.LegendPlacement.Right : common.LegendPlacement.Bottom, o.legendTable))
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending))
    .thresholds(NEUTRAL)
    .colorScheme(new dashboard.FieldColorBuilder().mode(dashboard.FieldColorModeId.PaletteClassic))
    .stacking(new common.StackingConfigBuilder().mode(o.stack ? common.StackingMode.Normal : common.StackingMode.None))
    .targets(o.targets);
  return p;
}

export interface StatOptions extends Common {
  unit: string;
  targets: prometheus.DataqueryBuilder[];
  /** Threshold steps (default: one neutral colour). */
  steps?: dashboard.Threshold[];
  mappings?: dashboard.ValueMapping[];
  graph?: boolean;
  noValue?: string;
  decimals?: number;
}

export function statPanel(o: StatOptions): stat.PanelBuilder {
  const p = new stat.PanelBuilder()
    .title(o.title)
    .description(o.description)
    .datasource(DATASOURCE)
    .span(o.width)
    .height(o.height)
    .unit(o.unit)
    .thresholds(o.steps ? thresholds(o.steps) : NEUTRAL)
    .colorMode(o.steps || o.mappings ? common.BigValueColorMode.Background : common.BigValueColorMode.Value)
    .graphMode(o.graph ? common.BigValueGraphMode.Area : common.BigValueGraphMode.None)
    .textMode(common.BigValueTextMode.Auto)
    .justifyMode(common.BigValueJustifyMode.Auto)
    .orientation(common.VizOrientation.Auto)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .targets(o.targets);
  if (o.mappings) p.mappings(o.mappings);
  if (o.noValue !== undefined) p.noValue(o.noValue);
  if (o.decimals !== undefined) p.decimals(o.decimals);
  return p;
}

export interface BarGaugeOptions extends Common {
  unit: string;
  targets: prometheus.DataqueryBuilder[];
  noValue?: string;
}

/** Horizontal bars of current values, largest first (the queries are topk). */
export function barGaugePanel(o: BarGaugeOptions): bargauge.PanelBuilder {
  return new bargauge.PanelBuilder()
    .title(o.title)
    .description(o.description)
    .datasource(DATASOURCE)
    .span(o.width)
    .height(o.height)
    .unit(o.unit)
    .min(0)
    .noValue(o.noValue ?? 'none')
    .orientation(common.VizOrientation.Horizontal)
    .displayMode(common.BarGaugeDisplayMode.Gradient)
    .valueMode(common.BarGaugeValueMode.Color)
    .namePlacement(common.BarGaugeNamePlacement.Top)
    .showUnfilled(true)
    .sizing(common.BarGaugeSizing.Auto)
    .thresholds(NEUTRAL)
    .colorScheme(new dashboard.FieldColorBuilder().mode(dashboard.FieldColorModeId.ContinuousBlPu))
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .targets(o.targets);
}

export interface TableOptions extends Common {
  targets: prometheus.DataqueryBuilder[];
  /** Rename (and order) these fields; every other field is hidden. */
  columns: Record<string, string>;
  /** Field name → unit, for the value columns. */
  units?: Record<string, string>;
  /** Sort by this column (a name from `columns`' values), largest first unless `ascending`. */
  sortBy?: string;
  ascending?: boolean;
  /** Label fields holding numbers (sorted as numbers, not text). */
  numeric?: string[];
  noValue?: string;
}

/**
 * A table of instant queries in table format, merged on their common labels. Only `columns` are
 * shown, in that order and under those names.
 */
export function tablePanel(o: TableOptions): table.PanelBuilder {
  const names = Object.keys(o.columns);
  const p = new table.PanelBuilder()
    .title(o.title)
    .description(o.description)
    .datasource(DATASOURCE)
    .span(o.width)
    .height(o.height)
    .noValue(o.noValue ?? 'none')
    .thresholds(NEUTRAL)
    .cellHeight(common.TableCellHeight.Sm)
    .showHeader(true)
    .filterable(false)
    .targets(o.targets)
    .withTransformation({ id: 'merge', options: {} });
  if (o.numeric) {
    p.withTransformation({
      id: 'convertFieldType',
      options: { conversions: o.numeric.map((f) => ({ targetField: f, destinationType: 'number' })), fields: {} },
    });
  }
  p.withTransformation({
      id: 'organize',
      options: {
        excludeByName: {},
        includeByName: Object.fromEntries(names.map((n) => [n, true])),
        indexByName: Object.fromEntries(names.map((n, i) => [n, i])),
        renameByName: o.columns,
      },
    });
  for (const [field, unit] of Object.entries(o.units ?? {})) {
    p.overrideByName(field, [{ id: 'unit', value: unit }]);
  }
  if (o.sortBy) p.sortBy([new common.TableSortByFieldStateBuilder().displayName(o.sortBy).desc(!o.ascending)]);
  return p;
}

export interface StatusOptions extends Common {
  targets: prometheus.DataqueryBuilder[];
  mappings: dashboard.ValueMapping[];
}

export function statusHistoryPanel(o: StatusOptions): statushistory.PanelBuilder {
  return new statushistory.PanelBuilder()
    .title(o.title)
    .description(o.description)
    .datasource(DATASOURCE)
    .span(o.width)
    .height(o.height)
    .mappings(o.mappings)
    .thresholds(thresholds([{ value: null, color: 'red' }, { value: 1, color: 'green' }]))
    .colorScheme(new dashboard.FieldColorBuilder().mode(dashboard.FieldColorModeId.Thresholds))
    .showValue(common.VisibilityMode.Never)
    .legend(legend().showLegend(false))
    .targets(o.targets);
}

/** 0/1 gauges shown as words: `good` is the value that is fine. */
export function boolMapping(good: 0 | 1, goodText: string, badText: string): dashboard.ValueMapping[] {
  const bad = good === 1 ? 0 : 1;
  return [
    {
      type: dashboard.MappingType.ValueToText,
      options: {
        [String(good)]: { text: goodText, color: 'green', index: 0 },
        [String(bad)]: { text: badText, color: 'red', index: 1 },
      },
    },
  ];
}

export type { PanelBuilder };
