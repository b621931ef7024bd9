import { describe, expect, test } from "vitest";
import { addDays, dayNumber, elbow, isoDay, layout, pathKeys, SCALE, STUB, STUB_LEAD } from "./timeline";
import type { Dependency, ScheduleDependency, ScheduledTask } from "./types";

function task(id: string, key: string, start: string, duration: number, critical = false): ScheduledTask {
  return {
    task_id: id,
    key,
    title: key,
    duration_days: duration,
    earliest_start: start,
    earliest_finish: addDays(start, duration),
    latest_start: start,
    latest_finish: addDays(start, duration),
    slack_days: critical ? 0 : 2,
    critical,
    start_date: null,
    due_date: null,
    conflicts: [],
  };
}

const dep = (id: string, p: string, s: string, type: Dependency["type"] = "finish_to_start"): Dependency => ({ id, predecessor_id: p, successor_id: s, type, lag_days: 0 });

const edge = (id: string, p: string, s: string, outside: ScheduleDependency["outside"], type: Dependency["type"] = "finish_to_start"): ScheduleDependency => ({
  id,
  predecessor_id: p,
  successor_id: s,
  predecessor_key: `K-${p}`,
  successor_key: `K-${s}`,
  type,
  lag_days: 0,
  outside,
});

describe("the timeline layout", () => {
  test("days round-trip across months and leap years", () => {
    expect(dayNumber("1970-01-02")).toBe(1);
    expect(isoDay(dayNumber("2028-02-29"))).toBe("2028-02-29");
    expect(addDays("2026-12-30", 3)).toBe("2027-01-02");
    expect(dayNumber("2026-12-07T10:00:00Z")).toBe(dayNumber("2026-12-07"));
  });

  test("one bar per task, in start order, from the earliest start for the duration", () => {
    const tasks = [task("b", "P-2", "2026-12-09", 3, true), task("a", "P-1", "2026-12-07", 2, true), task("m", "P-3", "2026-12-12", 0), task("c", "P-4", "2026-12-07", 1)];
    const out = layout(tasks, [], ["a", "b"]);
    expect(out.bars.map((b) => b.task.key)).toEqual(["P-1", "P-4", "P-2", "P-3"]);
    expect(out.first).toBe(dayNumber("2026-12-07"));
    expect(out.days).toBe(6);
    expect(out.width).toBe(6 * SCALE.dayWidth);
    const b = out.bars[2];
    expect(b?.x).toBe(2 * SCALE.dayWidth);
    expect(b?.width).toBe(3 * SCALE.dayWidth);
    expect(b?.y).toBe(SCALE.header + 2 * SCALE.rowHeight + (SCALE.rowHeight - SCALE.barHeight) / 2);
    expect(out.bars[3]?.milestone).toBe(true);
    expect(out.bars.filter((x) => x.critical).map((x) => x.task.key)).toEqual(["P-1", "P-2"]);
    expect(out.ticks[0]?.label).toBe("07");
    expect(out.height).toBe(SCALE.header + 4 * SCALE.rowHeight);
  });

  test("arrows leave the predecessor's end (start for start-to-start) and enter the successor's start", () => {
    const tasks = [task("a", "P-1", "2026-12-07", 2, true), task("b", "P-2", "2026-12-09", 3, true), task("c", "P-3", "2026-12-07", 4)];
    const out = layout(tasks, [dep("1", "a", "b"), dep("2", "a", "c", "start_to_start"), dep("3", "a", "gone")], ["a", "b"]);
    expect(out.arrows.map((a) => a.id)).toEqual(["1", "2"]);
    const [fs, ss] = out.arrows;
    const a = out.bars.find((x) => x.task.task_id === "a");
    expect(fs?.path.startsWith(`M ${(a?.x ?? 0) + (a?.width ?? 0)} `)).toBe(true);
    expect(fs?.path.endsWith(`H ${2 * SCALE.dayWidth}`)).toBe(true);
    expect(fs?.critical).toBe(true);
    expect(ss?.path.startsWith(`M 0 `)).toBe(true);
    expect(ss?.critical).toBe(false);
  });

  test("an edge leaving the rows is a stub naming the other task; incoming stubs make room on the left", () => {
    const tasks = [task("a", "P-1", "2026-12-07", 2), task("b", "P-2", "2026-12-09", 3)];
    const out = layout(tasks, [edge("1", "a", "b", null), edge("2", "a", "z", "successor"), edge("3", "y", "b", "predecessor", "start_to_start"), edge("4", "a", "x", "successor", "start_to_start")], []);
    expect(out.arrows.map((a) => a.id)).toEqual(["1"]);
    expect(out.lead).toBe(STUB_LEAD);
    const [a, b] = out.bars;
    expect(a?.x).toBe(STUB_LEAD);
    expect(b?.x).toBe(STUB_LEAD + 2 * SCALE.dayWidth);
    expect(out.ticks[0]?.x).toBe(STUB_LEAD);
    expect(out.width).toBe(STUB_LEAD + 6 * SCALE.dayWidth);
    expect(out.stubs.map((s) => [s.id, s.direction, s.task, s.other])).toEqual([
      ["2", "out", "a", "K-z"],
      ["3", "in", "b", "K-y"],
      ["4", "out", "a", "K-x"],
    ]);
    const y = (a?.y ?? 0) + SCALE.barHeight / 2;
    const end = (a?.x ?? 0) + (a?.width ?? 0);
    expect(out.stubs[0]?.path).toBe(`M ${end} ${y} H ${end + STUB}`);
    expect(out.stubs[0]?.labelX).toBe(end + STUB + 4);
    expect(out.stubs[2]?.path.startsWith(`M ${a?.x} `)).toBe(true); // start-to-start: from the start
    const yb = (b?.y ?? 0) + SCALE.barHeight / 2;
    expect(out.stubs[1]?.path).toBe(`M ${(b?.x ?? 0) - STUB} ${yb} H ${b?.x}`);
    expect(out.stubs[1]?.labelX).toBe((b?.x ?? 0) - STUB - 4);
  });

  test("only outgoing stubs: no room on the left; edges with neither end are not drawn", () => {
    const out = layout([task("a", "P-1", "2026-12-07", 2)], [edge("2", "a", "z", "successor"), edge("5", "q", "r", null)], []);
    expect(out.lead).toBe(0);
    expect(out.bars[0]?.x).toBe(0);
    expect(out.stubs.map((s) => s.id)).toEqual(["2"]);
    expect(out.arrows).toEqual([]);
  });

  test("an elbow goes around when the successor starts to the left", () => {
    expect(elbow(0, 10, 100, 50)).toBe("M 0 10 H 92 V 50 H 100");
    expect(elbow(100, 10, 50, 50)).toBe("M 100 10 H 108 V 30 H 42 V 50 H 50");
  });

  test("an empty schedule still lays out one day", () => {
    const out = layout([], [], []);
    expect(out.bars).toEqual([]);
    expect(out.days).toBe(1);
  });

  test("the critical path reads as keys in order", () => {
    expect(pathKeys(["b", "a", "zzzzzzzzzz"], [task("a", "P-1", "2026-12-07", 1), task("b", "P-2", "2026-12-07", 1)])).toEqual(["P-2", "P-1", "zzzzzzzz"]);
  });
});
