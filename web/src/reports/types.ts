/**
 * The reports contract (servicedesk/reports/schemas.py: ReportResult, ReportInfo), as the
 * API answers it. Mirrored by hand while the reports routes are built in parallel (issue
 * 19); the shapes are those of the Python models, field for field.
 */
export type Unit = "count" | "seconds" | "ratio" | "score";
export type Interval = "day" | "week" | "month";
export type GroupBy = "team" | "agent" | "category" | "priority" | "channel" | "type";
export type ChartKind = "line" | "bar" | "stacked_bar" | "table";

export interface Measure {
  key: string;
  label: string;
  unit: Unit;
  description?: string;
}

export interface GroupKey {
  id: string | null;
  label: string;
}

export type Values = Record<string, number | null | undefined>;

export interface ReportRow {
  /** Start of the local period (ISO date), when the report has an interval. */
  bucket?: string | null;
  group?: GroupKey | null;
  values: Values;
  /** Ticket list query parameters that list the tickets of this row. */
  drilldown?: Record<string, string> | null;
}

export interface ReportResult {
  report: string;
  title: string;
  since: string;
  until: string;
  tz: string;
  interval?: Interval | null;
  group_by?: GroupBy | null;
  filters?: Record<string, string>;
  measures: Measure[];
  rows: ReportRow[];
  totals?: Values;
  chart?: ChartKind;
  generated_at: string;
  notes?: string[];
}

export interface ReportInfo {
  name: string;
  title: string;
  description: string;
  measures: Measure[];
  group_by: GroupBy[];
  intervals: Interval[];
  filters: string[];
  chart: ChartKind;
}

/** The report filters (ReportParams): one value each. */
export const FILTER_KEYS = ["team_id", "assignee_id", "category_id", "priority", "channel"] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];
