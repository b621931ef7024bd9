/**
 * The reports page keeps its whole state in the address (shareable): the report in the
 * path, the rest in the query. Dates are the report's LOCAL dates (YYYY-MM-DD, in `tz`);
 * a preset range ("last 30 days") stays relative, so a shared link shows the same window
 * when opened another day, and a custom one is fixed.
 */
import { FILTER_KEYS, type FilterKey, type GroupBy, type Interval, type ReportInfo } from "./types";
import { t } from "../i18n/reports";

export const PRESETS = [
  { id: "last7", label: t("reports.url.last7Days") },
  { id: "last30", label: t("reports.url.last30Days") },
  { id: "last90", label: t("reports.url.last90Days") },
  { id: "this_month", label: t("reports.url.thisMonth") },
  { id: "last_month", label: t("reports.url.lastMonth") },
  { id: "last12m", label: t("reports.url.last12Months") },
  { id: "custom", label: t("reports.url.custom") },
] as const;
export type Preset = (typeof PRESETS)[number]["id"];

export const INTERVALS: { id: Interval; label: string }[] = [
  { id: "day", label: t("reports.url.day") },
  { id: "week", label: t("reports.url.week") },
  { id: "month", label: t("reports.url.month") },
];

export const GROUPS: { id: GroupBy; label: string }[] = [
  { id: "team", label: t("reports.url.team") },
  { id: "agent", label: t("reports.url.agent") },
  { id: "category", label: t("reports.url.category") },
  { id: "priority", label: t("reports.url.priority") },
  { id: "channel", label: t("reports.url.channel") },
  { id: "type", label: t("reports.url.type") },
  { id: "policy", label: t("reports.url.slaPolicy") },
];

/** The span the API accepts (BRIEF: more than 732 days is refused). */
export const MAX_SPAN_DAYS = 732;

export interface ReportState {
  range: Preset;
  /** Local dates, inclusive both ends. */
  since: string;
  until: string;
  tz: string;
  /** null: one row for the whole range (per group). */
  interval: Interval | null;
  groupBy: GroupBy | null;
  filters: Partial<Record<FilterKey, string>>;
  /** The measure the chart draws (its unit picks the others drawn with it). */
  measure: string | null;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function isDate(value: string | null | undefined): value is string {
  if (!value || !DATE.test(value)) return false;
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
}

/** The browser's time zone (the page's default). */
export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Today's date in a time zone (YYYY-MM-DD). */
export function todayIn(tz: string, now: Date = new Date()): string {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" }).formatToParts(now);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return `${get("year")}-${get("month")}-${get("day")}`;
}

function parse(date: string): Date {
  return new Date(`${date}T00:00:00Z`);
}

function iso(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** Calendar arithmetic on local dates (no time zone involved: dates are plain days). */
export function addDays(date: string, days: number): string {
  const d = parse(date);
  d.setUTCDate(d.getUTCDate() + days);
  return iso(d);
}

export function addMonths(date: string, months: number): string {
  const d = parse(date);
  const day = d.getUTCDate();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() + months);
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  d.setUTCDate(Math.min(day, last));
  return iso(d);
}

export function startOfMonth(date: string): string {
  return `${date.slice(0, 7)}-01`;
}

/** Days from `since` to `until`, both included. */
export function spanDays(since: string, until: string): number {
  return Math.round((parse(until).getTime() - parse(since).getTime()) / 86_400_000) + 1;
}

/** A preset's dates, relative to `today` (a local date). */
export function presetRange(preset: Exclude<Preset, "custom">, today: string): { since: string; until: string } {
  switch (preset) {
    case "last7":
      return { since: addDays(today, -6), until: today };
    case "last30":
      return { since: addDays(today, -29), until: today };
    case "last90":
      return { since: addDays(today, -89), until: today };
    case "this_month":
      return { since: startOfMonth(today), until: today };
    case "last_month": {
      const first = addMonths(startOfMonth(today), -1);
      return { since: first, until: addDays(startOfMonth(today), -1) };
    }
    case "last12m":
      // The twelve calendar months up to and including this one.
      return { since: addMonths(startOfMonth(today), -11), until: today };
  }
}

/** The interval a range reads best in when none was chosen. */
export function defaultInterval(since: string, until: string): Interval {
  const days = spanDays(since, until);
  if (days <= 31) return "day";
  if (days <= 120) return "week";
  return "month";
}

function isPreset(value: string | null): value is Preset {
  return PRESETS.some((p) => p.id === value);
}

function isInterval(value: string | null): value is Interval {
  return INTERVALS.some((i) => i.id === value);
}

function isGroup(value: string | null): value is GroupBy {
  return GROUPS.some((g) => g.id === value);
}

/** The state from the query string (anything unreadable falls back to the default). */
export function readState(params: URLSearchParams, options: { tz?: string; now?: Date } = {}): ReportState {
  const tzParam = params.get("tz");
  const tz = tzParam && isTimeZone(tzParam) ? tzParam : (options.tz ?? browserTimeZone());
  const today = todayIn(tz, options.now);
  const rangeParam = params.get("range");
  const sinceParam = params.get("since");
  const untilParam = params.get("until");
  let range: Preset = isPreset(rangeParam) ? rangeParam : "last30";
  // Explicit dates without a preset name are a custom range.
  if (!rangeParam && isDate(sinceParam) && isDate(untilParam)) range = "custom";
  let since: string;
  let until: string;
  if (range === "custom") {
    since = isDate(sinceParam) ? sinceParam : addDays(today, -29);
    until = isDate(untilParam) ? untilParam : today;
  } else {
    ({ since, until } = presetRange(range, today));
  }
  const intervalParam = params.get("interval");
  const interval = intervalParam === "none" ? null : isInterval(intervalParam) ? intervalParam : defaultInterval(since, until);
  const groupParam = params.get("group_by");
  const filters: ReportState["filters"] = {};
  for (const key of FILTER_KEYS) {
    const value = params.get(key);
    if (value) filters[key] = value;
  }
  return { range, since, until, tz, interval, groupBy: isGroup(groupParam) ? groupParam : null, filters, measure: params.get("measure") };
}

/** The query string of a state (only what differs from the defaults, in a stable order). */
export function writeState(state: ReportState, options: { tz?: string } = {}): URLSearchParams {
  const params = new URLSearchParams();
  params.set("range", state.range);
  if (state.range === "custom") {
    params.set("since", state.since);
    params.set("until", state.until);
  }
  if (state.tz !== (options.tz ?? browserTimeZone())) params.set("tz", state.tz);
  if (state.interval === null) params.set("interval", "none");
  else if (state.interval !== defaultInterval(state.since, state.until)) params.set("interval", state.interval);
  if (state.groupBy) params.set("group_by", state.groupBy);
  for (const key of FILTER_KEYS) {
    const value = state.filters[key];
    if (value) params.set(key, value);
  }
  if (state.measure) params.set("measure", state.measure);
  return params;
}

/** What the page checks before asking (the API checks the same and names the field). */
export function rangeError(state: Pick<ReportState, "since" | "until">): { field: "since" | "until"; message: string } | null {
  if (!isDate(state.since)) return { field: "since", message: t("reports.url.enterADate") };
  if (!isDate(state.until)) return { field: "until", message: t("reports.url.enterADate") };
  if (state.until < state.since) return { field: "until", message: t("reports.url.theEndIsBefore") };
  if (spanDays(state.since, state.until) > MAX_SPAN_DAYS) return { field: "until", message: t("reports.url.atMostDays", { max: MAX_SPAN_DAYS }) };
  return null;
}

/** The API's query for a report (only what its catalogue entry accepts). */
export function apiQuery(state: ReportState, info?: Pick<ReportInfo, "group_by" | "intervals" | "filters">): Record<string, string> {
  const query: Record<string, string> = { since: state.since, until: state.until, tz: state.tz };
  if (state.interval && (!info || info.intervals.includes(state.interval))) query.interval = state.interval;
  if (state.groupBy && (!info || info.group_by.includes(state.groupBy))) query.group_by = state.groupBy;
  for (const key of FILTER_KEYS) {
    const value = state.filters[key];
    if (value && (!info || info.filters.includes(key))) query[key] = value;
  }
  return query;
}

/**
 * The agent's ticket list for a drilldown (`ReportRow.drilldown`: GET /v1/tickets query
 * parameters). The "All" queue reads them from the address (agent/drilldown.ts).
 */
export function drilldownHref(drilldown: Record<string, string>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(drilldown)) {
    if (value !== "" && value !== null && value !== undefined) params.set(key, value);
  }
  params.set("from", "report");
  return `/queues/all?${params.toString()}`;
}
