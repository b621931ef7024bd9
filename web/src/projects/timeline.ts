/**
 * The timeline's layout maths (no React: timeline.test.ts): days from ISO dates, one row
 * and bar per scheduled task, the dependency arrows as elbow paths between bars, the day
 * ticks, and the critical path in order. The schedule answers the edges of its rows only:
 * those among them are arrows, those with one end outside the rows are stubs naming the
 * other task's key.
 */
import type { Dependency, ScheduleDependency, ScheduledTask } from "./types";

/** An edge to draw: the schedule's (with both keys) or a plain dependency (no stubs). */
export type DrawnEdge = Pick<Dependency, "id" | "predecessor_id" | "successor_id" | "type"> & Partial<Pick<ScheduleDependency, "predecessor_key" | "successor_key">>;

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

/** An edge with one end outside the rows shown: a short arrow out of the predecessor's
 * bar ("out") or into the successor's ("in"), labelled with the other task's key. */
export interface Stub {
  id: string;
  direction: "in" | "out";
  /** The bar's task, among the rows. */
  task: string;
  /** The other task's key, outside the rows. */
  other: string;
  path: string;
  /** Where the key is written (text-anchor end for "in", start for "out"). */
  labelX: number;
  labelY: number;
}

export interface Layout {
  first: number;
  days: number;
  width: number;
  height: number;
  bars: Bar[];
  arrows: Arrow[];
  stubs: Stub[];
  /** Room left of the first day for the incoming stubs and their keys (0 without). */
  lead: number;
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

/** A stub's length, and the room kept for an incoming stub's key. */
export const STUB = 20;
export const STUB_LEAD = 96;

/** Bars in schedule order (earliest start, then key), one row each; each bar from its
 * earliest start for its duration in days. Arrows: finish-to-start from the predecessor's
 * end, start-to-start from its start, to the successor's start; critical when both ends
 * are on the critical path. An edge with one end among the tasks and the other's key is a
 * stub (an edge with neither end, or without the key, is not drawn); incoming stubs move
 * every bar right by `STUB_LEAD` to leave room for their keys. */
export function layout(tasks: readonly ScheduledTask[], dependencies: readonly DrawnEdge[], criticalPath: readonly string[], scale: Scale = SCALE): Layout {
  const present = new Set(tasks.map((t) => t.task_id));
  const lead = dependencies.some((d) => d.predecessor_key && !present.has(d.predecessor_id) && present.has(d.successor_id)) ? STUB_LEAD : 0;
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
      x: lead + (dayNumber(task.earliest_start) - first) * scale.dayWidth,
      y: scale.header + row * scale.rowHeight + (scale.rowHeight - scale.barHeight) / 2,
      width: duration * scale.dayWidth,
      milestone: duration === 0,
      critical: task.critical || onPath.has(task.task_id),
    };
  });
  const byId = new Map(bars.map((b) => [b.task.task_id, b]));
  const arrows: Arrow[] = [];
  const stubs: Stub[] = [];
  for (const dep of dependencies) {
    const from = byId.get(dep.predecessor_id);
    const to = byId.get(dep.successor_id);
    if (from && !to && dep.successor_key) {
      const x = dep.type === "start_to_start" ? from.x : from.x + from.width;
      const y = from.y + scale.barHeight / 2;
      stubs.push({ id: dep.id, direction: "out", task: dep.predecessor_id, other: dep.successor_key, path: `M ${x} ${y} H ${x + STUB}`, labelX: x + STUB + 4, labelY: y + 4 });
      continue;
    }
    if (to && !from && dep.predecessor_key) {
      const y = to.y + scale.barHeight / 2;
      stubs.push({ id: dep.id, direction: "in", task: dep.successor_id, other: dep.predecessor_key, path: `M ${to.x - STUB} ${y} H ${to.x}`, labelX: to.x - STUB - 4, labelY: y + 4 });
      continue;
    }
    if (!from || !to) continue;
    const x1 = dep.type === "start_to_start" ? from.x : from.x + from.width;
    const y1 = from.y + scale.barHeight / 2;
    const x2 = to.x;
    const y2 = to.y + scale.barHeight / 2;
    arrows.push({ id: dep.id, from: dep.predecessor_id, to: dep.successor_id, path: elbow(x1, y1, x2, y2), critical: from.critical && to.critical });
  }
  const ticks = Array.from({ length: days }, (_, i) => ({ x: lead + i * scale.dayWidth, day: first + i, label: isoDay(first + i).slice(8, 10) }));
  return { first, days, width: lead + days * scale.dayWidth, height: scale.header + bars.length * scale.rowHeight, bars, arrows, stubs, lead, ticks };
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
