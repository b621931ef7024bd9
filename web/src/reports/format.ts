/** Numbers of a report, formatted by their unit (counts, durations, shares, scores). */
import { t } from "../i18n/reports";
import { formatDay, formatDayRange, formatDuration, formatNumber, formatPercent, unit as withUnit } from "../lib/format";
import type { Interval, Unit } from "./types";

const integer = (value: number) => formatNumber(value, { maximumFractionDigits: 0 });
const decimal = (value: number) => formatNumber(value, { maximumFractionDigits: 2, minimumFractionDigits: 2 });

/** A value as the reader should see it; a dash when there is nothing to measure. */
export function formatValue(unit: Unit, value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  switch (unit) {
    case "count":
      return integer(value);
    case "seconds":
      return formatDuration(value);
    case "ratio":
      return formatPercent(value);
    case "score":
      return decimal(value);
  }
}

/** An axis tick: shorter than a table cell (hours for durations, whole percents). */
export function formatTick(unit: Unit, value: number): string {
  switch (unit) {
    case "seconds":
      return value === 0 ? integer(0) : value >= 172_800 ? withUnit(Math.round(value / 86_400), "day") : value >= 3_600 ? withUnit(Math.round(value / 3_600), "hour") : withUnit(Math.round(value / 60), "minute");
    case "ratio":
      return formatPercent(value, 0);
    default:
      return integer(value);
  }
}

/** A bucket's label: "Mar 4" for a day, "Week of Mar 4" for a week, "Mar 2026" for a month
 * (in the display locale). The bucket is a local date already: no time zone conversion. */
export function bucketLabel(bucket: string, interval: Interval | null | undefined): string {
  if (interval === "month") return formatDay(bucket, "month");
  if (interval === "week") return t("reports.format.weekOf", { date: formatDay(bucket, "day") });
  return formatDay(bucket, "day");
}

/** "Mar 1 – 30, 2026" for a range of local dates. */
export const rangeLabel = formatDayRange;
