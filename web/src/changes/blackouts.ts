import type { components } from "../api/schema";
import { t } from "../i18n/changes";

export type Recurrence = components["schemas"]["Recurrence"];
export type BlackoutBody = components["schemas"]["BlackoutCreate"];

/** What the blackout form holds: a one-off window (local datetimes) or a rule. */
export interface BlackoutDraft {
  name: string;
  repeats: "" | "weekly" | "monthly";
  start: string;
  end: string;
  weekdays: number[];
  monthly: "day" | "nth";
  monthday: string;
  nth: string;
  weekday: string;
  startTime: string;
  duration: string;
  timeZone: string;
  startsOn: string;
  until: string;
}

const WEEKDAY_KEYS = ["changes.weekday.0", "changes.weekday.1", "changes.weekday.2", "changes.weekday.3", "changes.weekday.4", "changes.weekday.5", "changes.weekday.6"] as const;
const NTH_KEYS = { "1": "changes.nth.1", "2": "changes.nth.2", "3": "changes.nth.3", "4": "changes.nth.4", "-1": "changes.nth.-1" } as const;
export const NTHS = ["1", "2", "3", "4", "-1"] as const;

/** Monday is 0, as the API counts. */
export function weekdayName(day: number): string {
  return t(WEEKDAY_KEYS[day] ?? WEEKDAY_KEYS[0]);
}

export function nthName(nth: string): string {
  return t(NTH_KEYS[nth as keyof typeof NTH_KEYS] ?? NTH_KEYS["1"]);
}

export function emptyDraft(timeZone: string): BlackoutDraft {
  return { name: "", repeats: "", start: "", end: "", weekdays: [], monthly: "day", monthday: "1", nth: "1", weekday: "5", startTime: "22:00", duration: "120", timeZone, startsOn: "", until: "" };
}

/** A saved window as the form holds it (to edit it); `toLocal` turns an instant into a
 * `datetime-local` value. A rule keeps its own zone. */
export function draftOf(
  blackout: { name: string; starts_at: string; ends_at?: string | null; recurrence?: Recurrence | null },
  toLocal: (iso: string | null | undefined) => string,
  zone: string,
): BlackoutDraft {
  const rule = blackout.recurrence;
  const base = { ...emptyDraft(rule?.time_zone ?? zone), name: blackout.name };
  if (!rule) return { ...base, start: toLocal(blackout.starts_at), end: toLocal(blackout.ends_at) };
  return {
    ...base,
    repeats: rule.frequency,
    weekdays: [...(rule.weekdays ?? [])],
    monthly: rule.monthday != null ? "day" : "nth",
    monthday: String(rule.monthday ?? 1),
    nth: String(rule.nth ?? 1),
    weekday: String(rule.weekday ?? 5),
    startTime: String(rule.start_time).slice(0, 5),
    duration: String(rule.duration_minutes),
    startsOn: rule.starts_on,
    until: rule.until ?? "",
  };
}

/** The browser's own IANA zone (the default for a new rule). */
export function browserZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

/** The request body for the draft; `toInstant` turns a local datetime into an instant. */
export function blackoutBody(draft: BlackoutDraft, toInstant: (local: string) => string | null): BlackoutBody {
  const name = draft.name.trim();
  if (!draft.repeats) return { name, starts_at: toInstant(draft.start), ends_at: toInstant(draft.end) };
  const rule: Recurrence = {
    frequency: draft.repeats,
    start_time: draft.startTime,
    duration_minutes: Number(draft.duration),
    time_zone: draft.timeZone.trim(),
    starts_on: draft.startsOn,
    until: draft.until || null,
  };
  if (draft.repeats === "weekly") rule.weekdays = [...draft.weekdays].sort((a, b) => a - b);
  else if (draft.monthly === "day") rule.monthday = Number(draft.monthday);
  else {
    rule.nth = Number(draft.nth) as Recurrence["nth"];
    rule.weekday = Number(draft.weekday);
  }
  return { name, recurrence: rule };
}

/** "Every Saturday, Sunday, 22:00 for 6 h (Europe/London), from 2031-03-01 until 2031-12-31". */
export function describeRecurrence(rule: Recurrence): string {
  const days =
    rule.frequency === "weekly"
      ? t("changes.recurrence.weekly", { days: (rule.weekdays ?? []).map(weekdayName).join(", ") })
      : rule.monthday != null
        ? t("changes.recurrence.monthday", { day: rule.monthday })
        : t("changes.recurrence.nth", { nth: nthName(String(rule.nth ?? 1)).toLowerCase(), day: weekdayName(rule.weekday ?? 0) });
  const minutes = rule.duration_minutes;
  const length = minutes % 60 === 0 ? t("changes.recurrence.hours", { n: minutes / 60 }) : t("changes.recurrence.minutes", { n: minutes });
  const time = String(rule.start_time).slice(0, 5);
  const base = t("changes.recurrence.every", { days, time, length, zone: rule.time_zone, from: rule.starts_on });
  return rule.until ? `${base} ${t("changes.recurrence.until", { until: rule.until })}` : base;
}
