/**
 * From a ReportResult to what the chart draws: lines over the buckets when the report has
 * an interval, bars per group when it has none. One axis, one unit: the chosen measure's
 * unit; with no group, every measure of that unit is a line (created / resolved /
 * reopened together); with a group and an interval, the chosen measure per group (the
 * largest groups; the rest are in the table).
 */
import { bucketLabel, formatValue } from "./format";
import { measureDrilldown } from "./drill";
import type { Measure, ReportResult, ReportRow, Unit } from "./types";
import { t } from "../i18n/reports";

export const MAX_LINES = 6;

export interface LineSeries {
  key: string;
  name: string;
  values: (number | null)[];
}

export interface LineData {
  kind: "line";
  unit: Unit;
  labels: string[];
  series: LineSeries[];
  /** Groups left out of the chart (they are in the table). */
  omitted: number;
}

export interface BarDatum {
  label: string;
  value: number | null;
  drilldown: Record<string, string> | null;
}

export interface BarData {
  kind: "bar";
  unit: Unit;
  measure: Measure;
  bars: BarDatum[];
}

export type ChartData = LineData | BarData;

/** The measure the chart draws: the one asked for if the report has it, else the first. */
export function chartMeasure(result: Pick<ReportResult, "measures">, wanted: string | null): Measure | null {
  return result.measures.find((m) => m.key === wanted) ?? result.measures[0] ?? null;
}

function num(value: number | null | undefined): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function groupKey(row: ReportRow): string {
  return row.group ? (row.group.id ?? `label:${row.group.label}`) : "";
}

export function shapeChart(result: ReportResult, wanted: string | null = null): ChartData | null {
  const measure = chartMeasure(result, wanted);
  if (!measure || !result.rows.length) return null;
  const hasBuckets = result.rows.some((r) => r.bucket);
  if (!hasBuckets) {
    return {
      kind: "bar",
      unit: measure.unit,
      measure,
      bars: result.rows.map((row) => ({ label: row.group?.label ?? t("reports.shape.all"), value: num(row.values[measure.key]), drilldown: measureDrilldown(row, measure) })),
    };
  }
  const buckets = [...new Set(result.rows.map((r) => r.bucket).filter((b): b is string => Boolean(b)))].sort();
  const labels = buckets.map((b) => bucketLabel(b, result.interval));
  const index = new Map(buckets.map((b, i) => [b, i]));
  const hasGroups = result.rows.some((r) => r.group);
  if (!hasGroups) {
    const measures = result.measures.filter((m) => m.unit === measure.unit);
    const series = measures.map((m) => {
      const values: (number | null)[] = buckets.map(() => null);
      for (const row of result.rows) {
        const i = index.get(row.bucket ?? "");
        if (i !== undefined) values[i] = num(row.values[m.key]);
      }
      return { key: m.key, name: m.label, values };
    });
    return { kind: "line", unit: measure.unit, labels, series, omitted: 0 };
  }
  // One line per group: the measure asked for; the groups with the largest totals first.
  const groups = new Map<string, LineSeries & { total: number }>();
  for (const row of result.rows) {
    const key = groupKey(row);
    let entry = groups.get(key);
    if (!entry) {
      entry = { key, name: row.group?.label ?? "", values: buckets.map(() => null), total: 0 };
      groups.set(key, entry);
    }
    const i = index.get(row.bucket ?? "");
    const v = num(row.values[measure.key]);
    if (i !== undefined) entry.values[i] = v;
    entry.total += v ?? 0;
  }
  const ranked = [...groups.values()].sort((a, b) => b.total - a.total || a.name.localeCompare(b.name));
  const series = ranked.slice(0, MAX_LINES).map(({ key, name, values }) => ({ key, name, values }));
  return { kind: "line", unit: measure.unit, labels, series, omitted: Math.max(0, ranked.length - MAX_LINES) };
}

/** One sentence that says what the chart shows (the chart's accessible name). */
export function describeChart(result: ReportResult, data: ChartData): string {
  if (data.kind === "bar") {
    const values = data.bars.filter((b): b is BarDatum & { value: number } => b.value !== null);
    if (!values.length) return t("reports.shape.titleNoValueIn", { title: result.title, value: data.measure.label.toLowerCase() });
    const top = values.reduce((a, b) => (b.value > a.value ? b : a));
    return t("reports.shape.titleValueByGroup", { title: result.title, value: data.measure.label.toLowerCase(), length: data.bars.length, label: top.label, unit: formatValue(data.unit, top.value) });
  }
  const parts = data.series.map((s) => {
    const values = s.values.filter((v): v is number => v !== null);
    if (!values.length) return t("reports.shape.nameNoValues", { name: s.name });
    const peak = Math.max(...values);
    const total = data.unit === "count" ? t("reports.shape.valueInAll", { value: formatValue("count", values.reduce((a, b) => a + b, 0)) }) : "";
    return t("reports.shape.nameHighestUnitValue", { name: s.name, unit: formatValue(data.unit, peak), value: data.labels[s.values.indexOf(peak)] ?? "", total });
  });
  return t("reports.shape.titleOverLengthPeriods", { title: result.title, length: data.labels.length, value: parts.join("; ") });
}

/** Rows of the table view: a label for the bucket and/or group of each row. */
export function rowLabel(row: ReportRow, interval: ReportResult["interval"]): string {
  const parts: string[] = [];
  if (row.bucket) parts.push(bucketLabel(row.bucket, interval));
  if (row.group) parts.push(row.group.label);
  return parts.join(" · ") || t("reports.shape.all");
}
