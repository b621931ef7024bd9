/** Numbers of a report, formatted by their unit (counts, durations, shares, scores). */
import type { Interval, Unit } from "./types";

const integer = new Intl.NumberFormat("en", { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat("en", { maximumFractionDigits: 2, minimumFractionDigits: 2 });
const percent = new Intl.NumberFormat("en", { style: "percent", maximumFractionDigits: 1 });

/** "45 s", "12 min", "3 h 20 min", "2 d 4 h" for a duration in seconds. */
export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${String(minutes % 60).padStart(2, "0")} min`;
  const days = Math.floor(hours / 24);
  return `${days} d ${hours % 24} h`;
}

/** A value as the reader should see it; a dash when there is nothing to measure. */
export function formatValue(unit: Unit, value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  switch (unit) {
    case "count":
      return integer.format(value);
    case "seconds":
      return formatSeconds(value);
    case "ratio":
      return percent.format(value);
    case "score":
      return decimal.format(value);
  }
}

/** An axis tick: shorter than a table cell (hours for durations, whole percents). */
export function formatTick(unit: Unit, value: number): string {
  switch (unit) {
    case "seconds":
      return value === 0 ? "0" : value >= 172_800 ? `${integer.format(value / 86_400)} d` : value >= 3_600 ? `${integer.format(value / 3_600)} h` : `${integer.format(value / 60)} min`;
    case "ratio":
      return `${integer.format(value * 100)}%`;
    default:
      return integer.format(value);
  }
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** A bucket's label: "Mar 4" for a day, "Week of Mar 4" for a week, "Mar 2026" for a month.
 * The bucket is a local date already: no time zone conversion. */
export function bucketLabel(bucket: string, interval: Interval | null | undefined): string {
  const [y, m, d] = bucket.split("-").map(Number) as [number, number, number];
  const month = MONTHS[m - 1] ?? "";
  if (interval === "month") return `${month} ${y}`;
  if (interval === "week") return `Week of ${month} ${d}`;
  return `${month} ${d}`;
}

/** "1 Mar 2026 – 30 Mar 2026" for a range of local dates. */
export function rangeLabel(since: string, until: string): string {
  const one = (date: string) => {
    const [y, m, d] = date.slice(0, 10).split("-").map(Number) as [number, number, number];
    return `${d} ${MONTHS[m - 1] ?? ""} ${y}`;
  };
  return since.slice(0, 10) === until.slice(0, 10) ? one(since) : `${one(since)} – ${one(until)}`;
}
