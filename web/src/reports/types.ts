/**
 * The reports contract (servicedesk/reports/schemas.py: ReportResult, ReportInfo), as the
 * API answers it. Mirrored by hand while the reports routes are built in parallel (issue
 * 19); the shapes are those of the Python models, field for field.
 */
export type Unit = "count" | "seconds" | "ratio" | "score";
export type Interval = "day" | "week" | "month";
/** "policy": sla-compliance only (the old route's grouping). */
export type GroupBy = "team" | "agent" | "category" | "priority" | "channel" | "type" | "policy";
export type ChartKind = "line" | "bar" | "stacked_bar" | "table";

export interface Measure {
  key: string;
  label: string;
  unit: Unit;
  description?: string;
}

export interface GroupKey {
  id?: string | null;
  label: string;
}

export type Values = Record<string, number | null | undefined>;

export interface ReportRow {
  /** Start of the local period (ISO date), when the report has an interval. */
  bucket?: string | null;
  group?: GroupKey | null;
  values: Values;
  /** Ticket list query parameters that list the tickets of this row's first count. */
  drilldown?: Record<string, string> | null;
  /** Measure key -> the ticket list listing what that number counts (server-built). */
  drilldowns?: Record<string, Record<string, string>>;
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
  /** Measure key -> the ticket list listing what the total counts. */
  totals_drilldowns?: Record<string, Record<string, string>>;
  chart?: ChartKind;
  generated_at: string;
  notes?: string[];
}

export const UNITS: readonly Unit[] = ["count", "seconds", "ratio", "score"];

export function asUnit(unit: string): Unit {
  return (UNITS as readonly string[]).includes(unit) ? (unit as Unit) : "count";
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
export const FILTER_KEYS = ["team_id", "assignee_id", "category_id", "priority", "channel", "type"] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];

/** A tile of the manager dashboard (GET /v1/reports/dashboard). */
export interface DashboardTile {
  key: string;
  label: string;
  /** A Unit; read through asUnit (the dashboard's model types it as a string). */
  unit: string;
  value: number | null;
  drilldown?: Record<string, string> | null;
}

export interface DashboardSlice {
  id: string | null;
  label: string;
  value: number;
  drilldown?: Record<string, string> | null;
}

export interface Dashboard {
  tz: string;
  generated_at: string;
  tiles: DashboardTile[];
  backlog_by_priority: DashboardSlice[];
  backlog_by_team: DashboardSlice[];
  /** Created and resolved per local day, the last 14 days. */
  created_vs_resolved: { day: string; created: number; resolved: number; drilldown?: Record<string, string> | null; resolved_drilldown?: Record<string, string> | null }[];
}

export type ExportFormat = "csv" | "json" | "pdf";
export type ExportStatus = "queued" | "running" | "done" | "failed" | "expired";

export interface ExportRequest {
  kind: "report" | "tickets";
  report?: string;
  params: Record<string, string | string[]>;
  format: ExportFormat;
}

export interface ExportJob {
  id: string;
  kind: "report" | "tickets";
  report?: string | null;
  params?: Record<string, unknown>;
  format: ExportFormat;
  status: ExportStatus;
  rows_done?: number | null;
  rows_total?: number | null;
  size_bytes?: number | null;
  error?: string | null;
  created_at: string;
  started_at?: string | null;
  finished_at?: string | null;
  expires_at?: string | null;
}

export type Frequency = "daily" | "weekly" | "monthly";

export interface SubscriptionInput {
  report: string;
  params: Record<string, unknown>;
  format: "pdf" | "csv";
  frequency: Frequency;
  hour: number;
  weekday?: number | null;
  monthday?: number | null;
  tz: string;
  recipients: string[];
  active: boolean;
}

export interface Subscription extends SubscriptionInput {
  id: string;
  owner_id?: string;
  active: boolean;
  next_run_at?: string | null;
  last_run_at?: string | null;
  last_error?: string | null;
  created_at?: string;
  version: number;
}
