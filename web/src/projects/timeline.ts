/**
 * The timeline's layout maths (no React: timeline.test.ts): days from ISO dates, one row
 * and bar per scheduled task, the dependency arrows as elbow paths between bars, the day
 * ticks, and the critical path in order.
 */
import type { Dependency, ScheduledTask } from "./types";

const DAY_MS = 86_400_000;

/** An ISO date (YYYY-MM-DD, or a timestamp: its date) as a day number (UTC days since 1970). */
export function dayNumber(iso: string): number {
  const [y, m, d] = iso.slice(0, 10).split("-").map(Number);
  return Math.round(Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1) / DAY_MS);
}

/** A day number back as an ISO date. */
export function isoDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** `iso` moved by `days`. */
export function addDays(iso: string, days: number): string {
  return isoDay(dayNumber(iso) + days);
}

export interface Bar {
  task: ScheduledTask;
  row: number;
  x: number;
  y: number;
  width: number;
  /** A zero-length task: drawn as a diamond. */
  milestone: boolean;
  critical: boolean;
}

export interface Arrow {
  id: string;
  from: string;
  to: string;
  path: string;
  critical: boolean;
}

export interface Layout {
  first: number;
  days: number;
  width: number;
  height: number;
  bars: Bar[];
  arrows: Arrow[];
  ticks: { x: number; label: string; day: number }[];
}

export interface Scale {
  dayWidth: number;
  rowHeight: number;
  barHeight: number;
  /** Room at the top for the day labels. */
  header: number;
}

export const SCALE: Scale = { dayWidth: 28, rowHeight: 32, barHeight: 18, header: 28 };

/** Bars in schedule order (earliest start, then key), one row each; each bar from its
 * earliest start for its duration in days. Arrows: finish-to-start from the predecessor's
 * end, start-to-start from its start, to the successor's start; critical when both ends
 * are on the critical path. */
export function layout(tasks: readonly ScheduledTask[], dependencies: readonly Dependency[], criticalPath: readonly string[], scale: Scale = SCALE): Layout {
  const ordered = [...tasks].sort((a, b) => dayNumber(a.earliest_start) - dayNumber(b.earliest_start) || a.key.localeCompare(b.key, undefined, { numeric: true }));
  const onPath = new Set(criticalPath);
  const starts = ordered.map((t) => dayNumber(t.earliest_start));
  const ends = ordered.map((t) => dayNumber(t.earliest_start) + Math.max(0, t.duration_days));
  const first = starts.length ? Math.min(...starts) : 0;
  const last = ends.length ? Math.max(...ends) : first;
  const days = Math.max(1, last - first + 1);
  const bars: Bar[] = ordered.map((task, row) => {
    const duration = Math.max(0, task.duration_days);
    return {
      task,
      row,
      x: (dayNumber(task.earliest_start) - first) * scale.dayWidth,
      y: scale.header + row * scale.rowHeight + (scale.rowHeight - scale.barHeight) / 2,
      width: duration * scale.dayWidth,
      milestone: duration === 0,
      critical: task.critical || onPath.has(task.task_id),
    };
  });
  const byId = new Map(bars.map((b) => [b.task.task_id, b]));
  const arrows: Arrow[] = [];
  for (const dep of dependencies) {
    const from = byId.get(dep.predecessor_id);
    const to = byId.get(dep.successor_id);
    if (!from || !to) continue;
    const x1 = dep.type === "start_to_start" ? from.x : from.x + from.width;
    const y1 = from.y + scale.barHeight / 2;
    const x2 = to.x;
    const y2 = to.y + scale.barHeight / 2;
    arrows.push({ id: dep.id, from: dep.predecessor_id, to: dep.successor_id, path: elbow(x1, y1, x2, y2), critical: from.critical && to.critical });
  }
  const ticks = Array.from({ length: days }, (_, i) => ({ x: i * scale.dayWidth, day: first + i, label: isoDay(first + i).slice(8, 10) }));
  return { first, days, width: days * scale.dayWidth, height: scale.header + bars.length * scale.rowHeight, bars, arrows, ticks };
}

/** Out of the predecessor to the right, down (or up) to the successor's row, into its
 * start from the left; when the successor starts further left, around by the gap between
 * the rows. */
export function elbow(x1: number, y1: number, x2: number, y2: number, gap = 8): string {
  const out = x1 + gap;
  if (x2 - gap >= out) return `M ${x1} ${y1} H ${x2 - gap} V ${y2} H ${x2}`;
  const mid = (y1 + y2) / 2;
  return `M ${x1} ${y1} H ${out} V ${mid} H ${x2 - gap} V ${y2} H ${x2}`;
}

/** The critical path's keys in order ("NET-1 → NET-3 → NET-4"). */
export function pathKeys(criticalPath: readonly string[], tasks: readonly ScheduledTask[]): string[] {
  const keys = new Map(tasks.map((t) => [t.task_id, t.key]));
  return criticalPath.map((id) => keys.get(id) ?? id.slice(0, 8));
}
