/**
 * Which tickets a report's number counts, as ticket-list parameters (GET /v1/tickets). The
 * server builds every drilldown (servicedesk/reports/drilldown.py: the row's period as UTC
 * instants of the report zone's local midnights, its group and filters); a number without
 * one has no exact ticket list, and is not linked.
 */
import type { Measure, ReportResult, ReportRow } from "./types";

export type Drill = Record<string, string>;

/** The row's drilldown (its first count), or null. */
export function rowDrilldown(row: ReportRow): Drill | null {
  return row.drilldown ?? null;
}

/** The tickets behind one number of a row: a count's own list; a duration's, the tickets
 * it is measured over (the row's list); a ratio or score: none. */
export function measureDrilldown(row: ReportRow, measure: Pick<Measure, "key" | "unit">): Drill | null {
  if (measure.unit === "count") return row.drilldowns?.[measure.key] ?? null;
  if (measure.unit === "seconds") return row.drilldown ?? null;
  return null;
}

/** The tickets behind a total (counts only). */
export function totalDrilldown(result: ReportResult, key: string): Drill | null {
  return result.totals_drilldowns?.[key] ?? null;
}
