/**
 * The dashboard's figures, computed in the browser from what the API lists: tickets
 * (filtered by status and dates) and the SLA compliance report. Pure functions, so the
 * arithmetic is tested without a server (metrics.test.ts).
 */
import type { Level, TicketStatus } from "../api/types";

export interface TicketLike {
  status: TicketStatus;
  priority: Level;
  team_id?: string | null;
  assignee_id?: string | null;
  created_at: string;
  first_response_at?: string | null;
  resolved_at?: string | null;
}

export const DAY_MS = 86_400_000;

/** Counts per key, in the order of `order` (keys not in it follow, largest first). */
export function countBy<T>(items: T[], key: (item: T) => string, order: readonly string[] = []): { key: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const k of order) counts.set(k, 0);
  for (const item of items) {
    const k = key(item);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const known = order.map((k) => ({ key: k, count: counts.get(k) ?? 0 }));
  const rest = [...counts.entries()]
    .filter(([k]) => !order.includes(k))
    .map(([k, count]) => ({ key: k, count }))
    .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
  return [...known, ...rest];
}

/** The p-th percentile (0-100) by linear interpolation between closest ranks; null if empty. */
export function percentile(values: number[], p: number): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  const a = sorted[low] as number;
  const b = sorted[high] as number;
  return a + (b - a) * (rank - low);
}

export function median(values: number[]): number | null {
  return percentile(values, 50);
}

/** Milliseconds from `from` to `to` (ISO strings), or null when either is missing. */
export function elapsed(from: string | null | undefined, to: string | null | undefined): number | null {
  if (!from || !to) return null;
  const ms = new Date(to).getTime() - new Date(from).getTime();
  return Number.isFinite(ms) && ms >= 0 ? ms : null;
}

export interface DurationStats {
  count: number;
  median: number | null;
  p90: number | null;
}

export function durationStats(durations: (number | null)[]): DurationStats {
  const values = durations.filter((d): d is number => d !== null);
  return { count: values.length, median: median(values), p90: percentile(values, 90) };
}

/** First response times of tickets (opened → first response), for those that have one. */
export function firstResponseTimes(tickets: TicketLike[]): (number | null)[] {
  return tickets.map((t) => elapsed(t.created_at, t.first_response_at));
}

/** Resolution times of tickets (opened → resolved), for those resolved. */
export function resolutionTimes(tickets: TicketLike[]): (number | null)[] {
  return tickets.map((t) => elapsed(t.created_at, t.resolved_at));
}

export interface Bucket {
  /** Local start of the bucket, ms since the epoch. */
  start: number;
  end: number;
  label: string;
}

function startOfDay(ms: number): number {
  const d = new Date(ms);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

function addDays(ms: number, days: number): number {
  const d = new Date(ms);
  d.setDate(d.getDate() + days);
  return d.getTime();
}

/** The start of the period: local midnight `days - 1` days before `now` (today counts). */
export function periodStart(now: number, days: number): number {
  return addDays(startOfDay(now), -(days - 1));
}

/** Day buckets from `since` to `now` (weeks when the period is longer than 31 days). */
export function buckets(since: number, now: number, locale?: string): Bucket[] {
  const days = Math.round((startOfDay(now) - startOfDay(since)) / DAY_MS) + 1;
  const step = days > 31 ? 7 : 1;
  const format = new Intl.DateTimeFormat(locale, { month: "short", day: "numeric" });
  const out: Bucket[] = [];
  for (let start = startOfDay(since); start <= now; start = addDays(start, step)) {
    out.push({ start, end: addDays(start, step), label: format.format(start) });
  }
  return out;
}

/** How many of the timestamps fall in each bucket (null timestamps are skipped). */
export function countInBuckets(timestamps: (string | null | undefined)[], list: Bucket[]): number[] {
  const counts = list.map(() => 0);
  for (const ts of timestamps) {
    if (!ts) continue;
    const t = new Date(ts).getTime();
    const i = list.findIndex((b) => t >= b.start && t < b.end);
    if (i >= 0) counts[i] = (counts[i] ?? 0) + 1;
  }
  return counts;
}

export interface ComplianceRowLike {
  group: string | null;
  target: "first_response" | "next_response" | "resolution";
  met: number;
  breached: number;
}

export interface Compliance {
  met: number;
  breached: number;
  /** met / (met + breached), or null when nothing finished. */
  rate: number | null;
}

function rate(met: number, breached: number): number | null {
  return met + breached ? met / (met + breached) : null;
}

/** Totals per target over every group. */
export function complianceByTarget(rows: ComplianceRowLike[]): Record<ComplianceRowLike["target"], Compliance> {
  const out = {
    first_response: { met: 0, breached: 0, rate: null },
    next_response: { met: 0, breached: 0, rate: null },
    resolution: { met: 0, breached: 0, rate: null },
  } as Record<ComplianceRowLike["target"], Compliance>;
  for (const row of rows) {
    const c = out[row.target];
    c.met += row.met;
    c.breached += row.breached;
  }
  for (const c of Object.values(out)) c.rate = rate(c.met, c.breached);
  return out;
}

/** One line per group with its figures per target (groups as the report orders them). */
export function complianceByGroup(rows: ComplianceRowLike[]): { group: string; targets: Partial<Record<ComplianceRowLike["target"], Compliance>> }[] {
  const groups = new Map<string, Partial<Record<ComplianceRowLike["target"], Compliance>>>();
  for (const row of rows) {
    const name = row.group ?? "(none)";
    const entry = groups.get(name) ?? {};
    entry[row.target] = { met: row.met, breached: row.breached, rate: rate(row.met, row.breached) };
    groups.set(name, entry);
  }
  return [...groups.entries()].map(([group, targets]) => ({ group, targets }));
}

/** "45 min", "3 h 20 min", "2 d 4 h" for a duration in milliseconds. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return "—";
  const minutes = Math.round(ms / 60_000);
  if (minutes < 1) return "under 1 min";
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${String(minutes % 60).padStart(2, "0")} min`;
  const days = Math.floor(hours / 24);
  return `${days} d ${hours % 24} h`;
}

/** A round maximum for an axis: 1, 2, 5, 10, 20, 50 … at or above the value. */
export function niceMax(value: number): number {
  if (value <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 5, 10]) {
    if (m * power >= value) return m * power;
  }
  return 10 * power;
}
