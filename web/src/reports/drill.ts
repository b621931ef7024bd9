/**
 * Which tickets a row counts, as ticket-list parameters. The server's `ReportRow.drilldown`
 * when it gives one; otherwise, for the one measure the ticket list can reproduce exactly
 * (volume's `created`: tickets by created_at, merged ones included), the row's local period
 * as instants ([first day 00:00, next period 00:00) in the report's zone) and its group and
 * filters as list filters. Anything the list cannot express (a channel, "no team") gives
 * no drilldown rather than a wrong one.
 */
import { addDays, addMonths } from "./url";
import type { ReportResult, ReportRow } from "./types";

/** Offset (ms) of `tz` from UTC at the instant `utcMs`. */
function offsetAt(utcMs: number, tz: string): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: tz,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(new Date(utcMs));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const asUtc = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
  return asUtc - Math.floor(utcMs / 1000) * 1000;
}

/** The instant of local midnight starting `date` in `tz`, as ISO (UTC). A midnight that a
 * DST change skips resolves to the first instant of the day. */
export function localMidnight(date: string, tz: string): string {
  const [y, m, d] = date.split("-").map(Number) as [number, number, number];
  const wall = Date.UTC(y, m - 1, d);
  let guess = wall - offsetAt(wall, tz);
  guess = wall - offsetAt(guess, tz);
  return new Date(guess).toISOString();
}

/** The first local day after the period that starts at `bucket`. */
export function periodEnd(bucket: string, interval: ReportResult["interval"], until: string): string {
  if (interval === "week") return addDays(bucket, 7);
  if (interval === "month") return addMonths(bucket, 1);
  if (interval === "day") return addDays(bucket, 1);
  return addDays(until, 1);
}

const GROUP_PARAM: Record<string, string> = { team: "team_id", agent: "assignee", category: "category_id", priority: "priority" };
const FILTER_PARAM: Record<string, string> = { team_id: "team_id", assignee_id: "assignee", category_id: "category_id", priority: "priority" };

/** The row's drilldown, or null. `since`/`until` are the report's local dates. */
export function rowDrilldown(result: ReportResult, row: ReportRow, range: { since: string; until: string }): Record<string, string> | null {
  if (row.drilldown) return row.drilldown;
  if (result.report !== "volume") return null;
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(result.filters ?? {})) {
    const param = FILTER_PARAM[key];
    if (!param) return null; // channel: not a filter of the ticket list
    out[param] = value;
  }
  if (row.group) {
    const param = result.group_by ? GROUP_PARAM[result.group_by] : undefined;
    if (!param) return null;
    if (row.group.id) out[param] = row.group.id;
    else if (result.group_by === "agent") out.assignee = "none";
    else return null; // "(no team)", "(no category)": the list has no such filter
  }
  const first = row.bucket && row.bucket > range.since ? row.bucket : range.since;
  const next = row.bucket ? periodEnd(row.bucket, result.interval, range.until) : addDays(range.until, 1);
  const end = next < addDays(range.until, 1) ? next : addDays(range.until, 1);
  out.created_after = localMidnight(first, result.tz);
  out.created_before = localMidnight(end, result.tz);
  return out;
}
