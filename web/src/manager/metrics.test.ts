import { describe, expect, test } from "vitest";
import {
  buckets,
  complianceByGroup,
  complianceByTarget,
  countBy,
  countInBuckets,
  durationStats,
  firstResponseTimes,
  formatDuration,
  niceMax,
  percentile,
  periodStart,
  resolutionTimes,
  type TicketLike,
} from "./metrics";

const HOUR = 3_600_000;
const t0 = new Date(2025, 2, 10, 9, 0).getTime(); // local time, 10 March 2025 09:00
const iso = (ms: number) => new Date(ms).toISOString();

function ticket(over: Partial<TicketLike>): TicketLike {
  return { status: "new", priority: "medium", created_at: iso(t0), ...over };
}

describe("counts", () => {
  test("countBy keeps the given order (with zeros) and puts the rest after, largest first", () => {
    const items = [ticket({ status: "open" }), ticket({ status: "open" }), ticket({ status: "pending" }), ticket({ status: "resolved" })];
    expect(countBy(items, (t) => t.status, ["new", "open", "pending"])).toEqual([
      { key: "new", count: 0 },
      { key: "open", count: 2 },
      { key: "pending", count: 1 },
      { key: "resolved", count: 1 },
    ]);
  });
});

describe("times", () => {
  test("percentiles interpolate between ranks; empty is null", () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([5], 90)).toBe(5);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 90)).toBe(91);
  });

  test("first response and resolution come from the ticket's timestamps; missing ones are skipped", () => {
    const tickets = [
      ticket({ first_response_at: iso(t0 + HOUR), resolved_at: iso(t0 + 5 * HOUR) }),
      ticket({ first_response_at: iso(t0 + 3 * HOUR) }),
      ticket({}),
    ];
    expect(durationStats(firstResponseTimes(tickets))).toEqual({ count: 2, median: 2 * HOUR, p90: 2.8 * HOUR });
    expect(durationStats(resolutionTimes(tickets))).toEqual({ count: 1, median: 5 * HOUR, p90: 5 * HOUR });
  });

  test("durations read as people say them", () => {
    expect(formatDuration(null)).toBe("—");
    expect(formatDuration(20_000)).toBe("under 1 min");
    expect(formatDuration(45 * 60_000)).toBe("45 min");
    expect(formatDuration(3 * HOUR + 5 * 60_000)).toBe("3 h 05 min");
    expect(formatDuration(50 * HOUR)).toBe("2 d 2 h");
  });
});

describe("buckets", () => {
  test("a 7-day period has a bucket a day, today included, counting by local day", () => {
    const now = t0 + 5 * HOUR;
    const since = periodStart(now, 7);
    expect(new Date(since).getDate()).toBe(4);
    const list = buckets(since, now, "en-GB");
    expect(list).toHaveLength(7);
    expect(list[6]?.label).toBe("10 Mar");
    const counts = countInBuckets([iso(t0), iso(t0 - 24 * HOUR), iso(t0 - 30 * 24 * HOUR), null], list);
    expect(counts).toEqual([0, 0, 0, 0, 0, 1, 1]);
  });

  test("longer periods go by week", () => {
    const now = t0;
    expect(buckets(periodStart(now, 90), now)).toHaveLength(13);
  });

  test("axis maxima are round", () => {
    expect([0, 1, 3, 7, 10, 11, 180, 2001].map(niceMax)).toEqual([1, 1, 5, 10, 10, 20, 200, 5000]);
  });
});

describe("compliance", () => {
  const rows = [
    { group: "high", target: "first_response" as const, met: 3, breached: 1 },
    { group: "low", target: "first_response" as const, met: 1, breached: 0 },
    { group: "high", target: "resolution" as const, met: 0, breached: 2 },
    { group: null, target: "resolution" as const, met: 0, breached: 0 },
  ];
  test("totals per target", () => {
    const totals = complianceByTarget(rows);
    expect(totals.first_response).toEqual({ met: 4, breached: 1, rate: 0.8 });
    expect(totals.resolution).toEqual({ met: 0, breached: 2, rate: 0 });
    expect(totals.next_response).toEqual({ met: 0, breached: 0, rate: null });
  });
  test("one line per group", () => {
    const groups = complianceByGroup(rows);
    expect(groups.map((g) => g.group)).toEqual(["high", "low", "(none)"]);
    expect(groups[0]?.targets.first_response?.rate).toBe(0.75);
    expect(groups[2]?.targets.resolution?.rate).toBeNull();
  });
});
