// Panel factories with layerdu's defaults, one a panel type. Each names the datasource
// `${datasource}` as every query does (lib.ts says why).
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import type * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as statushistory from '@grafana/grafana-foundation-sdk/statushistory';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { DATASOURCE } from './lib.js';

export interface Common {
  title: string;
  description: string;
  width: number;
  height: number;
}

const thresholds = (steps: dashboard.Threshold[]) =>
  new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps(steps);

const NEUTRAL = thresholds([{ value: null, color: 'blue' }]);

/** What every panel builder offers and every layerdu panel sets first (the order keeps the JSON's keys). */
interface PanelBase<T> {
  title(title: string): T;
  description(description: string): T;
  datasource(ref: common.DataSourceRef): T;
  span(width: number): T;
  height(height: number): T;
}

function panel<T extends PanelBase<T>>(builder: T, o: Common): T {
  return builder.title(o.title).description(o.description).datasource(DATASOURCE).span(o.width).height(o.height);
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
  const p = panel(new timeseries.PanelBuilder(), o)
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
  const p = panel(new stat.PanelBuilder(), o)
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
  return panel(new bargauge.PanelBuilder(), o)
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
  const p = panel(new table.PanelBuilder(), o)
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
  return panel(new statushistory.PanelBuilder(), o)
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
