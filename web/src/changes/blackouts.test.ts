import { describe, expect, test } from "vitest";
import { blackoutBody, describeRecurrence, draftOf, emptyDraft } from "./blackouts";

const instant = (local: string) => (local ? `${local}:00Z` : null);

describe("the blackout form", () => {
  test("a one-off window sends its two instants", () => {
    const draft = { ...emptyDraft("Europe/London"), name: " Freeze ", start: "2031-12-20T00:00", end: "2032-01-02T00:00" };
    expect(blackoutBody(draft, instant)).toEqual({ name: "Freeze", starts_at: "2031-12-20T00:00:00Z", ends_at: "2032-01-02T00:00:00Z" });
  });

  test("a weekly rule sends its days in order and no one-off times", () => {
    const draft = { ...emptyDraft("Europe/London"), name: "Weekend", repeats: "weekly" as const, weekdays: [6, 5], startsOn: "2031-03-01" };
    expect(blackoutBody(draft, instant)).toEqual({
      name: "Weekend",
      recurrence: { frequency: "weekly", weekdays: [5, 6], start_time: "22:00", duration_minutes: 120, time_zone: "Europe/London", starts_on: "2031-03-01", until: null },
    });
  });

  test("a monthly rule sends a day of the month, or the nth weekday", () => {
    const base = { ...emptyDraft("UTC"), name: "Close", repeats: "monthly" as const, startsOn: "2031-01-01", until: "2031-12-31" };
    expect(blackoutBody({ ...base, monthday: "31" }, instant).recurrence).toMatchObject({ monthday: 31, until: "2031-12-31" });
    const nth = blackoutBody({ ...base, monthly: "nth", nth: "-1", weekday: "4" }, instant).recurrence;
    expect(nth).toMatchObject({ nth: -1, weekday: 4 });
    expect(nth?.monthday).toBeUndefined();
  });

  test("a rule reads as words", () => {
    expect(
      describeRecurrence({ frequency: "weekly", weekdays: [5, 6], start_time: "22:00:00", duration_minutes: 360, time_zone: "Europe/London", starts_on: "2031-03-01", until: null }),
    ).toBe("Every Saturday, Sunday, 22:00 for 6 h (Europe/London), from 2031-03-01");
    expect(
      describeRecurrence({ frequency: "monthly", nth: -1, weekday: 4, start_time: "18:00:00", duration_minutes: 90, time_zone: "America/New_York", starts_on: "2031-01-01", until: "2031-06-30" }),
    ).toBe("The last Friday of each month, 18:00 for 90 min (America/New_York), from 2031-01-01 until 2031-06-30");
  });

  test("a saved window reads back into the form and sends the same body", () => {
    const local = (iso: string | null | undefined) => (iso ? iso.slice(0, 16) : "");
    const once = draftOf({ name: "Freeze", starts_at: "2031-12-20T00:00:00Z", ends_at: "2032-01-02T00:00:00Z", recurrence: null }, local, "UTC");
    expect(once).toMatchObject({ name: "Freeze", repeats: "", start: "2031-12-20T00:00", end: "2032-01-02T00:00" });
    expect(blackoutBody(once, instant)).toEqual({ name: "Freeze", starts_at: "2031-12-20T00:00:00Z", ends_at: "2032-01-02T00:00:00Z" });
    const recurrence = { frequency: "monthly" as const, nth: -1 as const, weekday: 4, start_time: "22:00:00", duration_minutes: 90, time_zone: "Europe/Paris", starts_on: "2031-01-01", until: "2031-12-31" };
    const rule = draftOf({ name: "Close", starts_at: "2031-01-01T21:00:00Z", ends_at: null, recurrence }, local, "UTC");
    expect(rule).toMatchObject({ repeats: "monthly", monthly: "nth", nth: "-1", weekday: "4", startTime: "22:00", duration: "90", timeZone: "Europe/Paris" });
    expect(blackoutBody(rule, instant)).toEqual({ name: "Close", recurrence: { ...recurrence, start_time: "22:00" } });
  });
});
