import type { Level, SlaTarget, TicketStatus } from "../api/types";
import { labelled } from "../i18n";

/** Every status's name, in one place, for every screen (badges, filters, properties,
 * timeline, dashboard, SLA policies). The e-mails use the same words:
 * servicedesk/tickets/states.py LABELS (tests/unit/test_status_labels.py compares them).
 * Only "pending" reads differently for the requester: it is waiting on them. */
export const STATUS_LABELS = labelled<TicketStatus>({
  new: "format.status.new",
  open: "format.status.open",
  in_progress: "format.status.in_progress",
  pending: "format.status.pending",
  pending_approval: "format.status.pending_approval",
  resolved: "format.status.resolved",
  closed: "format.status.closed",
  cancelled: "format.status.cancelled",
});

const REQUESTER_LABELS = labelled<TicketStatus>({
  new: "format.status.new",
  open: "format.status.open",
  in_progress: "format.status.in_progress",
  pending: "format.status.pendingForRequester",
  pending_approval: "format.status.pending_approval",
  resolved: "format.status.resolved",
  closed: "format.status.closed",
  cancelled: "format.status.cancelled",
});

export const STATUSES = Object.keys(STATUS_LABELS) as TicketStatus[];

export function isStatus(value: unknown): value is TicketStatus {
  return typeof value === "string" && value in STATUS_LABELS;
}

/** A status as staff (`staff`) or as the requester reads it. */
export function statusLabel(status: TicketStatus, staff: boolean): string {
  return (staff ? STATUS_LABELS : REQUESTER_LABELS)[status];
}

export type SlaTargetName = SlaTarget["target"];

/** The SLA targets by name, for every screen (badges, policies, dashboard). */
export const SLA_TARGET_LABELS = labelled<SlaTargetName>({
  first_response: "format.sla.first_response",
  next_response: "format.sla.next_response",
  resolution: "format.sla.resolution",
});

/** A target's name; an unknown one (a newer API) in words, never as a raw key. */
export function slaTargetLabel(target: string): string {
  const known = SLA_TARGET_LABELS[target as SlaTargetName] as string | undefined;
  if (known) return known;
  const words = target.replaceAll("_", " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export const LEVELS: readonly Level[] = ["low", "medium", "high", "critical"];
export const LEVEL_LABELS = labelled<Level>({
  low: "format.level.low",
  medium: "format.level.medium",
  high: "format.level.high",
  critical: "format.level.critical",
});

/** How this person reads dates: their profile's time zone and locale (PATCH /v1/me), or
 * the browser's when unset. Every date the app shows goes through this module. */
export interface DisplayPreferences {
  timeZone?: string | null;
  locale?: string | null;
}

let relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
let absolute = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
let current: DisplayPreferences = {};

function formatters(prefs: DisplayPreferences): [Intl.RelativeTimeFormat, Intl.DateTimeFormat] {
  const locale = prefs.locale || undefined;
  return [
    new Intl.RelativeTimeFormat(locale, { numeric: "auto" }),
    new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short", timeZone: prefs.timeZone || undefined }),
  ];
}

/** Use the person's time zone and locale from now on (an unknown one: the browser's). */
export function setDisplayPreferences(prefs: DisplayPreferences): void {
  try {
    [relative, absolute] = formatters(prefs);
    current = { ...prefs };
  } catch {
    [relative, absolute] = formatters({});
    current = {};
  }
}

export function displayPreferences(): DisplayPreferences {
  return current;
}

/** The time zone dates are shown in (the profile's, else the browser's). */
export function displayTimeZone(): string {
  return absolute.resolvedOptions().timeZone;
}

export function formatDateTime(iso: string | Date): string {
  return absolute.format(typeof iso === "string" ? new Date(iso) : iso);
}

/** A date formatted with other preferences (the profile form's sample), without adopting them. */
export function formatDateTimeWith(iso: string | Date, prefs: DisplayPreferences): string {
  try {
    return formatters(prefs)[1].format(typeof iso === "string" ? new Date(iso) : iso);
  } catch {
    return formatDateTime(iso);
  }
}

/** "3 minutes ago", "in 2 hours", for times near now. */
export function formatRelative(iso: string, now = Date.now()): string {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const units: [Intl.RelativeTimeFormatUnit, number][] = [
    ["day", 86_400],
    ["hour", 3_600],
    ["minute", 60],
  ];
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size) return relative.format(Math.trunc(seconds / size), unit);
  }
  return relative.format(seconds, "second");
}

/** The locale numbers and dates are written in: the profile's, else the browser's. */
export function displayLocale(): string {
  return absolute.resolvedOptions().locale;
}

const numberFormats = new Map<string, Intl.NumberFormat>();

/** A number in the display locale ("1,234.5" in English, "1.234,5" in German). */
export function formatNumber(value: number, options: Intl.NumberFormatOptions = {}): string {
  const key = `${displayLocale()}|${JSON.stringify(options)}`;
  let format = numberFormats.get(key);
  if (!format) {
    format = new Intl.NumberFormat(displayLocale(), options);
    numberFormats.set(key, format);
  }
  return format.format(value);
}

/** A share (0.873 → "87.3%"), at most `digits` decimals. */
export function formatPercent(value: number, digits = 1): string {
  return formatNumber(value, { style: "percent", maximumFractionDigits: digits });
}

type DurationUnit = "day" | "hour" | "minute" | "second";

/** A number with a unit, narrow ("2h", "05m" padded). */
export function unit(value: number, name: DurationUnit, pad = false): string {
  return formatNumber(value, { style: "unit", unit: name, unitDisplay: "narrow", ...(pad ? { minimumIntegerDigits: 2 } : {}) });
}

function joinUnits(parts: string[]): string {
  return new Intl.ListFormat(displayLocale(), { type: "unit", style: "narrow" }).format(parts);
}

/** A duration in seconds, in its two largest units: "42s", "45m", "3h 20m", "2d 4h" in
 * English; the display locale's unit words elsewhere. Under two days it counts hours. */
export function formatDuration(seconds: number): string {
  const sign = seconds < 0 ? "-" : "";
  const abs = Math.abs(seconds);
  if (abs < 60) return sign + unit(Math.round(abs), "second");
  const minutes = Math.round(abs / 60);
  if (minutes < 60) return sign + unit(minutes, "minute");
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return sign + joinUnits(minutes % 60 ? [unit(hours, "hour"), unit(minutes % 60, "minute", true)] : [unit(hours, "hour")]);
  const days = Math.floor(hours / 24);
  return sign + joinUnits(hours % 24 ? [unit(days, "day"), unit(hours % 24, "hour")] : [unit(days, "day")]);
}

/** A countdown such as "2h 05m", "3d 2h" or "-12m" (overdue), to the minute. */
export function formatCountdown(ms: number): string {
  const sign = ms < 0 ? "-" : "";
  const total = Math.floor(Math.abs(ms) / 60_000);
  const days = Math.floor(total / 1440);
  const hours = Math.floor((total % 1440) / 60);
  const minutes = total % 60;
  if (days > 0) return sign + joinUnits([unit(days, "day"), unit(hours, "hour")]);
  if (hours > 0) return sign + joinUnits([unit(hours, "hour"), unit(minutes, "minute", true)]);
  return sign + unit(minutes, "minute");
}

/** A file size: "512B", "1.5 kB", "2.0 MB" in English. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return formatNumber(bytes, { style: "unit", unit: "byte", unitDisplay: "narrow" });
  const [value, name] = bytes < 1024 * 1024 ? [bytes / 1024, "kilobyte"] : [bytes / 1024 / 1024, "megabyte"];
  return formatNumber(value, { style: "unit", unit: name, unitDisplay: "short", minimumFractionDigits: 1, maximumFractionDigits: 1 });
}

/** A calendar date ("2026-03-04", no time zone: it is a local date already) as a day
 * ("Mar 4"), a month ("Mar 2026") or in full ("Mar 4, 2026") in the display locale. */
export function formatDay(date: string, style: "day" | "month" | "full" = "full"): string {
  const [y, m, d] = date.slice(0, 10).split("-").map(Number) as [number, number, number];
  const options: Intl.DateTimeFormatOptions =
    style === "day" ? { month: "short", day: "numeric" } : style === "month" ? { month: "short", year: "numeric" } : { dateStyle: "medium" };
  return new Intl.DateTimeFormat(displayLocale(), { ...options, timeZone: "UTC" }).format(new Date(Date.UTC(y, m - 1, d)));
}

/** A range of calendar dates in the display locale ("Mar 1 – 30, 2026" in English); one
 * date when both ends are the same day. */
export function formatDayRange(since: string, until: string): string {
  const day = (date: string) => {
    const [y, m, d] = date.slice(0, 10).split("-").map(Number) as [number, number, number];
    return new Date(Date.UTC(y, m - 1, d));
  };
  const format = new Intl.DateTimeFormat(displayLocale(), { dateStyle: "medium", timeZone: "UTC" });
  return since.slice(0, 10) === until.slice(0, 10) ? format.format(day(since)) : format.formatRange(day(since), day(until));
}

/** "A, B or C" ("or") or "A, B and C" ("and") in the display locale. */
export function formatList(items: string[], kind: "or" | "and" = "and"): string {
  return new Intl.ListFormat(displayLocale(), { type: kind === "or" ? "disjunction" : "conjunction" }).format(items);
}

/** The days of the week, Monday first (ISO order, as Python's weekday()), in the display
 * locale: "Monday" … "Sunday" in English. */
export function weekdayNames(style: "long" | "short" = "long"): string[] {
  const format = new Intl.DateTimeFormat(displayLocale(), { weekday: style, timeZone: "UTC" });
  // 2024-01-01 was a Monday.
  return Array.from({ length: 7 }, (_, i) => format.format(new Date(Date.UTC(2024, 0, 1 + i))));
}

