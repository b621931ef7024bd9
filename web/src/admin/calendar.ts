/** Business calendars: the week's working intervals, checked as the server checks them
 * (servicedesk/sla/calendars.py and sla/schemas.py), with errors under the same names. */
import { t } from "../i18n/admin";
import { weekdayNames } from "../lib/format";

export interface Interval {
  start: string;
  end: string;
}

export type Week = Interval[][];

/** A week's days, Monday first; their names come from lib/format.ts weekdayNames(). */
export const DAYS = [0, 1, 2, 3, 4, 5, 6] as const;
const HHMM = /^([01]\d|2[0-3]):[0-5]\d$|^24:00$/;
const MONTH_DAY = /^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function minutes(hhmm: string): number {
  const [h = "0", m = "0"] = hhmm.split(":");
  return Number(h) * 60 + Number(m);
}

export function emptyWeek(): Week {
  return DAYS.map(() => []);
}

export function officeHours(start = "09:00", end = "17:00"): Week {
  return DAYS.map((_, d) => (d < 5 ? [{ start, end }] : []));
}

/** Field errors keyed like the server's: week.<day>.<n>[.start|.end], week. */
export function checkWeek(week: Week): Record<string, string> {
  const errors: Record<string, string> = {};
  week.forEach((day, d) => {
    const spans: [number, number, number][] = [];
    day.forEach((interval, n) => {
      let ok = true;
      for (const edge of ["start", "end"] as const) {
        if (!HHMM.test(interval[edge])) {
          errors[`week.${d}.${n}.${edge}`] = t("admin.calendar.mustBeHhMm");
          ok = false;
        }
      }
      if (ok) spans.push([minutes(interval.start), minutes(interval.end), n]);
    });
    spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    for (const [start, end, n] of spans) {
      if (start >= end) errors[`week.${d}.${n}`] = t("admin.calendar.startMustBeBefore");
    }
    for (let i = 1; i < spans.length; i += 1) {
      const [s1, e1] = spans[i - 1] as [number, number, number];
      const [s2, , n2] = spans[i] as [number, number, number];
      if (s2 < e1 && s1 < e1) errors[`week.${d}.${n2}`] ??= t("admin.calendar.overlapsAnotherInterval");
    }
  });
  if (!week.some((day) => day.length)) errors.week = t("admin.calendar.aCalendarNeedsSome");
  return errors;
}

export function checkHolidays(dates: string[], yearly: string[]): Record<string, string> {
  const errors: Record<string, string> = {};
  dates.forEach((d, i) => {
    if (!DATE.test(d) || Number.isNaN(Date.parse(d))) errors[`holidays.${i}`] = t("admin.calendar.mustBeADate");
  });
  const bad = yearly.find((d) => !MONTH_DAY.test(d));
  if (bad !== undefined) errors.yearly_holidays = t("admin.calendar.badIsNotMm", { bad });
  return errors;
}

/** Working hours a week, for a one-line summary. */
export function weeklyHours(week: Week): number {
  let total = 0;
  for (const day of week) {
    for (const interval of day) {
      if (HHMM.test(interval.start) && HHMM.test(interval.end)) total += Math.max(0, minutes(interval.end) - minutes(interval.start));
    }
  }
  return total / 60;
}

/** "Mon–Fri 09:00–17:00"-like text for one calendar's week. */
export function describeWeek(week: Week): string {
  const short = weekdayNames("short");
  const parts: string[] = [];
  let i = 0;
  while (i < week.length) {
    const day = week[i] ?? [];
    const text = day.map((iv) => `${iv.start}–${iv.end}`).join(", ");
    let j = i;
    while (j + 1 < week.length && (week[j + 1] ?? []).map((iv) => `${iv.start}–${iv.end}`).join(", ") === text) j += 1;
    if (text) parts.push(`${short[i] ?? ""}${j > i ? `–${short[j] ?? ""}` : ""} ${text}`);
    i = j + 1;
  }
  return parts.join("; ") || t("admin.calendar.noWorkingTime");
}

/** The IANA zones this browser knows (the server checks against its own tz database). */
export function timeZones(): string[] {
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  return zones.includes("UTC") ? zones : ["UTC", ...zones];
}
