// The types the dashboards' JSON schema is derived from (schema.ts): the Grafana SDK's Dashboard,
// and for its composable slots, which the SDK types as opaque variants, the plugins these
// dashboards use: Prometheus queries, and each panel type's options and custom field config.
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import type * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import type * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import type * as stat from '@grafana/grafana-foundation-sdk/stat';
import type * as statushistory from '@grafana/grafana-foundation-sdk/statushistory';
import type * as table from '@grafana/grafana-foundation-sdk/table';
import type * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';

export type GrafanaDashboard = Dashboard;
export type PrometheusQuery = prometheus.Dataquery;
export type BargaugeOptions = bargauge.Options;
export type StatOptions = stat.Options;
export type StatusHistoryOptions = statushistory.Options;
export type StatusHistoryFieldConfig = statushistory.FieldConfig;
export type TableOptions = table.Options;
export type TableFieldConfig = table.FieldConfig;
export type TimeseriesOptions = timeseries.Options;
export type TimeseriesFieldConfig = timeseries.FieldConfig;
