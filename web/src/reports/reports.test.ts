import { beforeAll, describe, expect, test } from "vitest";
import { formatDuration as formatSeconds, setDisplayPreferences } from "../lib/format";
import { bucketLabel, formatTick, formatValue, rangeLabel } from "./format";
import { describeChart, shapeChart, MAX_LINES, rowLabel } from "./shape";
import type { ReportResult } from "./types";
import {
  addMonths,
  apiQuery,
  defaultInterval,
  drilldownHref,
  presetRange,
  rangeError,
  readState,
  spanDays,
  todayIn,
  writeState,
} from "./url";

// Numbers and dates follow the display locale (lib/format.ts): English (US) here.
beforeAll(() => setDisplayPreferences({ locale: "en-US", timeZone: "UTC" }));

describe("formatting by unit", () => {
  test("counts, durations, shares and scores", () => {
    expect(formatValue("count", 1234)).toBe("1,234");
    expect(formatValue("seconds", 42)).toBe("42s");
    expect(formatValue("seconds", 45 * 60)).toBe("45m");
    expect(formatValue("seconds", 3 * 3600 + 20 * 60)).toBe("3h 20m");
    expect(formatValue("seconds", 2 * 86400 + 4 * 3600)).toBe("2d 4h");
    expect(formatValue("ratio", 0.8734)).toBe("87.3%");
    expect(formatValue("ratio", 1)).toBe("100%");
    expect(formatValue("score", 4.5)).toBe("4.50");
  });
  test("nothing to measure is a dash, not a zero", () => {
    expect(formatValue("seconds", null)).toBe("—");
    expect(formatValue("ratio", undefined)).toBe("—");
    expect(formatValue("count", Number.NaN)).toBe("—");
    expect(formatValue("count", 0)).toBe("0");
  });
  test("duration edges round to the minute", () => {
    expect(formatSeconds(59.6)).toBe("60s");
    expect(formatSeconds(60)).toBe("1m");
    expect(formatSeconds(47 * 3600 + 59 * 60)).toBe("47h 59m");
  });
  test("axis ticks", () => {
    expect(formatTick("seconds", 7200)).toBe("2h");
    expect(formatTick("seconds", 3 * 86400)).toBe("3d");
    expect(formatTick("ratio", 0.5)).toBe("50%");
    expect(formatTick("count", 1000)).toBe("1,000");
  });
  test("bucket labels are the local dates as given (no zone shift)", () => {
    expect(bucketLabel("2026-03-29", "day")).toBe("Mar 29");
    expect(bucketLabel("2026-03-23", "week")).toBe("Week of Mar 23");
    expect(bucketLabel("2026-03-01", "month")).toBe("Mar 2026");
    expect(rangeLabel("2026-03-01", "2026-03-30")).toBe("Mar 1\u2009–\u200930, 2026");
    expect(rangeLabel("2026-03-01", "2026-03-01")).toBe("Mar 1, 2026");
  });
});

describe("date ranges", () => {
  const today = "2026-03-15";
  test("presets are local dates, today included", () => {
    expect(presetRange("last7", today)).toEqual({ since: "2026-03-09", until: today });
    expect(presetRange("last30", today)).toEqual({ since: "2026-02-14", until: today });
    expect(presetRange("last90", today)).toEqual({ since: "2025-12-16", until: today });
    expect(presetRange("this_month", today)).toEqual({ since: "2026-03-01", until: today });
    expect(presetRange("last_month", today)).toEqual({ since: "2026-02-01", until: "2026-02-28" });
    expect(presetRange("last_month", "2024-03-31")).toEqual({ since: "2024-02-01", until: "2024-02-29" });
    expect(presetRange("last12m", today)).toEqual({ since: "2025-04-01", until: today });
    expect(presetRange("last_month", "2026-01-10")).toEqual({ since: "2025-12-01", until: "2025-12-31" });
  });
  test("month arithmetic clamps to the month's last day", () => {
    expect(addMonths("2026-01-31", 1)).toBe("2026-02-28");
    expect(addMonths("2026-03-31", -1)).toBe("2026-02-28");
  });
  test("today in a zone: the zone's date, not the browser's", () => {
    const instant = new Date("2026-03-15T23:30:00Z");
    expect(todayIn("UTC", instant)).toBe("2026-03-15");
    expect(todayIn("Europe/Paris", instant)).toBe("2026-03-16");
    expect(todayIn("America/New_York", instant)).toBe("2026-03-15");
  });
  test("the interval follows the span unless chosen", () => {
    expect(defaultInterval("2026-03-01", "2026-03-31")).toBe("day");
    expect(defaultInterval("2026-01-01", "2026-03-31")).toBe("week");
    expect(defaultInterval("2025-04-01", "2026-03-31")).toBe("month");
    expect(spanDays("2026-03-01", "2026-03-31")).toBe(31);
  });
  test("the checks the API makes, field named", () => {
    expect(rangeError({ since: "2026-03-10", until: "2026-03-01" })).toEqual({ field: "until", message: "The end is before the start." });
    expect(rangeError({ since: "2024-01-01", until: "2026-01-03" })?.field).toBe("until");
    expect(rangeError({ since: "2026-02-30", until: "2026-03-01" })?.field).toBe("since");
    expect(rangeError({ since: "2026-03-01", until: "2026-03-01" })).toBeNull();
  });
});

describe("the address holds the state", () => {
  const now = new Date("2026-03-15T12:00:00Z");
  test("defaults: last 30 days by day, the browser's zone", () => {
    const state = readState(new URLSearchParams(), { tz: "Europe/Paris", now });
    expect(state).toMatchObject({ range: "last30", since: "2026-02-14", until: "2026-03-15", tz: "Europe/Paris", interval: "day", groupBy: null, filters: {} });
    expect(writeState(state, { tz: "Europe/Paris" }).toString()).toBe("range=last30");
  });
  test("a custom range, zone, interval, group and filters survive a round trip", () => {
    const params = new URLSearchParams("range=custom&since=2026-01-05&until=2026-02-01&tz=America%2FNew_York&interval=week&group_by=team&priority=high&team_id=t1&measure=resolved");
    const state = readState(params, { tz: "Europe/Paris", now });
    expect(state).toEqual({
      range: "custom",
      since: "2026-01-05",
      until: "2026-02-01",
      tz: "America/New_York",
      interval: "week",
      groupBy: "team",
      filters: { team_id: "t1", priority: "high" },
      measure: "resolved",
    });
    expect(readState(writeState(state, { tz: "Europe/Paris" }), { tz: "Europe/Paris", now })).toEqual(state);
  });
  test("no interval is written as none; junk falls back to defaults", () => {
    const state = readState(new URLSearchParams("interval=none&group_by=bogus&tz=Mars%2FOlympus&range=nope&colour=red"), { tz: "UTC", now });
    expect(state.interval).toBeNull();
    expect(state.groupBy).toBeNull();
    expect(state.tz).toBe("UTC");
    expect(state.range).toBe("last30");
    expect(writeState(state, { tz: "UTC" }).get("interval")).toBe("none");
  });
  test("dates without a preset are a custom range", () => {
    expect(readState(new URLSearchParams("since=2026-01-01&until=2026-01-31"), { tz: "UTC", now }).range).toBe("custom");
  });
  test("the API query: only what the report accepts", () => {
    const state = readState(new URLSearchParams("group_by=agent&channel=email&priority=low"), { tz: "UTC", now });
    expect(apiQuery(state, { group_by: ["team"], intervals: ["day", "week"], filters: ["priority"] })).toEqual({
      since: "2026-02-14",
      until: "2026-03-15",
      tz: "UTC",
      interval: "day",
      priority: "low",
    });
    expect(apiQuery(state)).toMatchObject({ group_by: "agent", channel: "email" });
  });
  test("a drilldown opens the All queue with the row's filters", () => {
    expect(drilldownHref({ team_id: "t1", created_after: "2026-03-01T00:00:00+01:00" })).toBe(
      "/queues/all?team_id=t1&created_after=2026-03-01T00%3A00%3A00%2B01%3A00&from=report",
    );
  });
});

function result(partial: Partial<ReportResult>): ReportResult {
  return {
    report: "volume",
    title: "Ticket volume",
    since: "2026-03-01T00:00:00Z",
    until: "2026-03-04T00:00:00Z",
    tz: "UTC",
    measures: [
      { key: "created", label: "Created", unit: "count" },
      { key: "resolved", label: "Resolved", unit: "count" },
      { key: "median", label: "Median", unit: "seconds" },
    ],
    rows: [],
    generated_at: "2026-03-04T00:00:00Z",
    ...partial,
  };
}

describe("chart data", () => {
  test("buckets without groups: a line per measure of the chosen unit, in date order", () => {
    const data = shapeChart(
      result({
        interval: "day",
        rows: [
          { bucket: "2026-03-02", values: { created: 5, resolved: 1, median: 60 } },
          { bucket: "2026-03-01", values: { created: 2, resolved: 0, median: null } },
        ],
      }),
    );
    expect(data).toEqual({
      kind: "line",
      unit: "count",
      labels: ["Mar 1", "Mar 2"],
      series: [
        { key: "created", name: "Created", values: [2, 5] },
        { key: "resolved", name: "Resolved", values: [0, 1] },
      ],
      omitted: 0,
    });
    const durations = shapeChart(result({ interval: "day", rows: [{ bucket: "2026-03-01", values: { created: 2, median: null } }] }), "median");
    expect(durations).toMatchObject({ unit: "seconds", series: [{ key: "median", values: [null] }] });
  });
  test("groups without buckets: bars of the chosen measure, with their drilldowns", () => {
    const data = shapeChart(
      result({
        group_by: "team",
        rows: [
          { group: { id: "a", label: "Desk" }, values: { created: 3 }, drilldown: { team_id: "a" }, drilldowns: { created: { team_id: "a" } } },
          { group: { id: null, label: "(no team)" }, values: { created: 1 } },
        ],
      }),
    );
    expect(data).toEqual({
      kind: "bar",
      unit: "count",
      measure: { key: "created", label: "Created", unit: "count" },
      bars: [
        { label: "Desk", value: 3, drilldown: { team_id: "a" } },
        { label: "(no team)", value: 1, drilldown: null },
      ],
    });
    expect(describeChart(result({}), data!)).toContain("the highest is Desk with 3");
  });
  test("groups over buckets: the largest groups, the rest counted as omitted", () => {
    const rows = [];
    for (let g = 0; g < MAX_LINES + 2; g++) {
      for (const bucket of ["2026-03-01", "2026-03-02"]) rows.push({ bucket, group: { id: `g${g}`, label: `Group ${g}` }, values: { created: g } });
    }
    const data = shapeChart(result({ interval: "day", group_by: "team", rows }));
    expect(data?.kind).toBe("line");
    if (data?.kind !== "line") return;
    expect(data.series).toHaveLength(MAX_LINES);
    expect(data.series[0]).toEqual({ key: "g7", name: "Group 7", values: [7, 7] });
    expect(data.omitted).toBe(2);
  });
  test("an empty report has no chart; the description names peaks", () => {
    expect(shapeChart(result({ rows: [] }))).toBeNull();
    const r = result({ interval: "day", rows: [{ bucket: "2026-03-01", values: { created: 4, resolved: 2 } }, { bucket: "2026-03-02", values: { created: 9, resolved: 0 } }] });
    expect(describeChart(r, shapeChart(r)!)).toBe("Ticket volume over 2 periods. Created: highest 9 (Mar 2), 13 in all; Resolved: highest 2 (Mar 1), 2 in all.");
    expect(rowLabel({ bucket: "2026-03-01", group: { id: "x", label: "Desk" }, values: {} }, "week")).toBe("Week of Mar 1 · Desk");
  });
});

import { jobProgress, jobStatusText, jobTitle, jobsPoll } from "./jobs";

describe("export jobs", () => {
  test("progress from rows; unknown total is indeterminate; done is full", () => {
    expect(jobProgress({ status: "running", rows_done: 250, rows_total: 1000 })).toBe(0.25);
    expect(jobProgress({ status: "queued", rows_done: 0, rows_total: null })).toBeNull();
    expect(jobProgress({ status: "done", rows_done: 10, rows_total: 20 })).toBe(1);
    expect(jobStatusText({ status: "running", rows_done: 250, rows_total: 1000 })).toBe("Preparing: 250 of 1000 rows");
    expect(jobStatusText({ status: "failed", error: "too many rows" })).toBe("Failed: too many rows");
    expect(jobStatusText({ status: "expired" })).toBe("Expired");
  });
  test("polls only while a job is queued or running", () => {
    expect(jobsPoll([{ status: "done" }, { status: "running" }])).toBe(2000);
    expect(jobsPoll([{ status: "done" }, { status: "failed" }])).toBe(false);
    expect(jobsPoll(undefined)).toBe(false);
  });
  test("titles", () => {
    expect(jobTitle({ kind: "report", report: "volume", format: "pdf" }, { volume: "Ticket volume" })).toBe("Ticket volume (PDF)");
    expect(jobTitle({ kind: "tickets", format: "csv" })).toBe("Ticket list (CSV)");
  });
});

import { describeSchedule, scheduleParams, toInput, validateSchedule } from "./schedule";

describe("scheduled reports", () => {
  test("the subscription keeps the report's parameters, not its dates", () => {
    expect(scheduleParams(new URLSearchParams("interval=none&group_by=team"))).toEqual({ group_by: "team" });
    expect(scheduleParams(new URLSearchParams("report=volume&range=last30&since=2026-01-01&tz=UTC&interval=week&group_by=team&priority=high"))).toEqual({
      interval: "week",
      group_by: "team",
      priority: "high",
    });
  });
  test("a schedule in words", () => {
    expect(describeSchedule({ frequency: "daily", hour: 7, tz: "UTC" })).toBe("Every day at 07:00 (UTC)");
    expect(describeSchedule({ frequency: "weekly", hour: 8, weekday: 0, tz: "Europe/Paris" })).toBe("Every Monday at 08:00 (Europe/Paris)");
    expect(describeSchedule({ frequency: "monthly", hour: 18, monthday: 22, tz: "UTC" })).toBe("On the 22nd of each month at 18:00 (UTC)");
  });
  test("only the frequency's own day is sent; checks name the field", () => {
    const form = { report: "volume", params: {}, format: "pdf" as const, frequency: "weekly" as const, hour: 8, weekday: 4, monthday: 15, tz: "UTC", recipients: ["u1"] };
    expect(toInput(form)).toMatchObject({ weekday: 4, monthday: null });
    expect(validateSchedule(form)).toEqual({});
    expect(validateSchedule({ ...form, recipients: [], hour: 24 })).toEqual({ recipients: "Choose at least one recipient.", hour: "An hour from 0 to 23." });
  });
});

import { debouncer, describeChanges, shouldAnnounce } from "./live";
import type { Dashboard } from "./types";

describe("the live dashboard", () => {
  const board = (open: number, first: number | null): Dashboard => ({
    tz: "UTC",
    generated_at: "2026-03-01T00:00:00Z",
    tiles: [
      { key: "open", label: "Open now", unit: "count", value: open },
      { key: "first", label: "Median first response", unit: "seconds", value: first },
    ],
    backlog_by_priority: [],
    backlog_by_team: [],
    created_vs_resolved: [],
  });
  test("a burst of events makes one refetch, after the last", () => {
    let calls = 0;
    const pending: (() => void)[] = [];
    const timers = {
      set: (fn: () => void) => pending.push(fn),
      clear: (id: unknown) => {
        pending[(id as number) - 1] = () => undefined;
      },
    };
    const d = debouncer(() => calls++, 1000, timers);
    d.trigger();
    d.trigger();
    d.trigger();
    for (const fn of pending) fn();
    expect(calls).toBe(1);
  });
  test("with the real timers (called as plain functions, as the browser requires)", async () => {
    let calls = 0;
    const d = debouncer(() => calls++, 5);
    d.trigger();
    d.trigger();
    await new Promise((done) => setTimeout(done, 30));
    expect(calls).toBe(1);
  });
  test("only changed figures are announced, with their old value", () => {
    expect(describeChanges(undefined, board(1, null))).toBeNull();
    expect(describeChanges(board(1, null), board(1, null))).toBeNull();
    expect(describeChanges(board(12, null), board(13, 600))).toBe("Dashboard updated: Open now 13 (was 12); Median first response 10m (was —).");
  });
  test("announcements are at least 30 s apart", () => {
    expect(shouldAnnounce("x", null, 1000)).toBe(true);
    expect(shouldAnnounce("x", 1000, 20_000)).toBe(false);
    expect(shouldAnnounce("x", 1000, 31_000)).toBe(true);
    expect(shouldAnnounce(null, null, 1000)).toBe(false);
  });
});

import { measureDrilldown, rowDrilldown, totalDrilldown } from "./drill";

describe("drilldowns: the server's only", () => {
  const row = {
    bucket: "2026-03-02",
    values: { count: 3, median_business: 60, resolved: 2 },
    drilldown: { resolved_after: "2026-03-01T23:00:00Z" },
    drilldowns: { count: { resolved_after: "2026-03-01T23:00:00Z" }, resolved: { resolution_after: "2026-03-01T23:00:00Z" } },
  };
  test("a count links to its own list; a duration to the row's; a ratio to none", () => {
    expect(rowDrilldown(row)).toEqual({ resolved_after: "2026-03-01T23:00:00Z" });
    expect(measureDrilldown(row, { key: "resolved", unit: "count" })).toEqual({ resolution_after: "2026-03-01T23:00:00Z" });
    expect(measureDrilldown(row, { key: "median_business", unit: "seconds" })).toEqual(row.drilldown);
    expect(measureDrilldown(row, { key: "ratio", unit: "ratio" })).toBeNull();
  });
  test("no server drilldown, no link (nothing rebuilt on the client)", () => {
    expect(rowDrilldown({ bucket: "2026-03-02", values: { created: 1 } })).toBeNull();
    expect(measureDrilldown({ bucket: "2026-03-02", values: { created: 1 } }, { key: "created", unit: "count" })).toBeNull();
  });
  test("totals", () => {
    const r = result({ totals: { open: 4 }, totals_drilldowns: { open: { status: "new,open,in_progress,pending" } } });
    expect(totalDrilldown(r, "open")).toEqual({ status: "new,open,in_progress,pending" });
    expect(totalDrilldown(r, "aging_lt_1d")).toBeNull();
  });
});
