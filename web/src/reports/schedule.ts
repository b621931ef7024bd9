/** Scheduled reports: the form's values, and a subscription in words (tested). */
import { displayLocale, weekdayNames } from "../lib/format";
import type { Frequency, Subscription, SubscriptionInput } from "./types";
import { t } from "../i18n/reports";


export interface ScheduleForm {
  report: string;
  params: Record<string, string>;
  format: "pdf" | "csv";
  frequency: Frequency;
  hour: number;
  /** 0 = Monday (ISO order, as Python's weekday()). */
  weekday: number;
  monthday: number;
  tz: string;
  recipients: string[];
}

/** The report parameters a subscription keeps: not the dates (each delivery covers the
 * period just ended), the rest as on the reports page. */
export function scheduleParams(query: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of query) {
    if (["report", "since", "until", "range", "measure", "tz", "edit"].includes(key) || !value) continue;
    // "No interval" is the absence of one for the API.
    if (key === "interval" && value === "none") continue;
    out[key] = value;
  }
  return out;
}

export function toInput(form: ScheduleForm, active = true): SubscriptionInput {
  return {
    active,
    report: form.report,
    params: form.params,
    format: form.format,
    frequency: form.frequency,
    hour: form.hour,
    weekday: form.frequency === "weekly" ? form.weekday : null,
    monthday: form.frequency === "monthly" ? form.monthday : null,
    tz: form.tz,
    recipients: form.recipients,
  };
}

export function fromSubscription(s: Subscription): ScheduleForm {
  return {
    report: s.report,
    params: Object.fromEntries(Object.entries(s.params).map(([k, v]) => [k, String(v)])),
    format: s.format,
    frequency: s.frequency,
    hour: s.hour,
    weekday: s.weekday ?? 0,
    monthday: s.monthday ?? 1,
    tz: s.tz,
    recipients: [...s.recipients],
  };
}

/** "1st", "22nd", "3rd", "4th" in English: the display locale's ordinal rules pick the words. */
function ordinal(n: number): string {
  const rule = new Intl.PluralRules(displayLocale(), { type: "ordinal" }).select(n);
  const key = rule === "one" || rule === "two" || rule === "few" ? rule : "other";
  return t(`reports.schedule.ordinal.${key}`, { n });
}

/** "Every Monday at 08:00 (Europe/Paris)". */
export function describeSchedule(s: Pick<SubscriptionInput, "frequency" | "hour" | "weekday" | "monthday" | "tz">): string {
  const at = `${String(s.hour).padStart(2, "0")}:00`;
  if (s.frequency === "weekly") return t("reports.schedule.everyValueAtAt", { value: weekdayNames()[s.weekday ?? 0] ?? "", at, tz: s.tz });
  if (s.frequency === "monthly") return t("reports.schedule.onTheValueOf", { value: ordinal(s.monthday ?? 1), at, tz: s.tz });
  return t("reports.schedule.everyDayAtAt", { at, tz: s.tz });
}

export function validateSchedule(form: ScheduleForm): Record<string, string> {
  const errors: Record<string, string> = {};
  if (!form.report) errors.report = t("reports.schedule.chooseAReport");
  if (!form.recipients.length) errors.recipients = t("reports.schedule.chooseAtLeastOne");
  if (!Number.isInteger(form.hour) || form.hour < 0 || form.hour > 23) errors.hour = t("reports.schedule.anHourFrom0");
  if (form.frequency === "monthly" && (form.monthday < 1 || form.monthday > 28)) errors.monthday = t("reports.schedule.aDayFrom1");
  return errors;
}
