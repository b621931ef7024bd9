import type { Level, SlaTarget, TicketStatus } from "../api/types";

/** Every status's name, in one place, for every screen (badges, filters, properties,
 * timeline, dashboard, SLA policies). The e-mails use the same words:
 * servicedesk/tickets/states.py LABELS (tests/unit/test_status_labels.py compares them).
 * Only "pending" reads differently for the requester: it is waiting on them. */
export const STATUS_LABELS: Record<TicketStatus, string> = {
  new: "New",
  open: "Open",
  in_progress: "In progress",
  pending: "Waiting on requester",
  resolved: "Resolved",
  closed: "Closed",
  cancelled: "Cancelled",
};

const REQUESTER_LABELS: Record<TicketStatus, string> = { ...STATUS_LABELS, pending: "Waiting on you" };

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
export const SLA_TARGET_LABELS: Record<SlaTargetName, string> = {
  first_response: "First response",
  next_response: "Next response",
  resolution: "Resolution",
};

/** A target's name; an unknown one (a newer API) in words, never as a raw key. */
export function slaTargetLabel(target: string): string {
  const known = SLA_TARGET_LABELS[target as SlaTargetName] as string | undefined;
  if (known) return known;
  const words = target.replaceAll("_", " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export const LEVELS: readonly Level[] = ["low", "medium", "high", "critical"];
export const LEVEL_LABELS: Record<Level, string> = {
  low: "Low",
  medium: "Medium",
  high: "High",
  critical: "Critical",
};

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

/** A countdown such as "2h 05m" or "-12m" (overdue). */
export function formatCountdown(ms: number): string {
  const sign = ms < 0 ? "-" : "";
  const total = Math.floor(Math.abs(ms) / 60_000);
  const days = Math.floor(total / 1440);
  const hours = Math.floor((total % 1440) / 60);
  const minutes = total % 60;
  if (days > 0) return `${sign}${days}d ${hours}h`;
  if (hours > 0) return `${sign}${hours}h ${String(minutes).padStart(2, "0")}m`;
  return `${sign}${minutes}m`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
