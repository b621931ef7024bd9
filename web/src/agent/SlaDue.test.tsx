import { render } from "@testing-library/react";
import { describe, expect, test } from "vitest";
import type { SlaTarget } from "../api/types";
import { slaTargetLabel } from "../lib/format";
import { SlaDue, describeTarget, nextDue } from "./SlaBadges";

describe("SlaDue", () => {
  const now = Date.parse("2026-01-01T12:00:00Z");
  const cell = (due: string | null) => render(<SlaDue due={due} now={now} />).container;

  test("counts down, warns in the last hour, and says when it is overdue", () => {
    expect(cell("2026-01-01T15:05:00Z").textContent).toBe("in 3h 05m");
    const soon = cell("2026-01-01T12:40:00Z").querySelector("time");
    expect(soon?.textContent).toBe("in 40m");
    expect(soon?.className).toContain("text-warning-text");
    const late = cell("2026-01-01T11:48:00Z").querySelector("time");
    expect(late?.textContent).toBe("overdue 12m");
    expect(late?.className).toContain("text-danger-text");
  });

  test("no open target: a dash", () => {
    expect(cell(null).textContent).toBe("—");
  });
});

describe("describeTarget", () => {
  const now = Date.parse("2026-01-01T12:00:00Z");
  const target = (over: Partial<SlaTarget>): SlaTarget => ({
    target: "next_response",
    budget_seconds: 4 * 3600,
    elapsed_seconds: 0,
    due_at: "2026-01-01T15:00:00Z",
    met_at: null,
    breached_at: null,
    paused_since: null,
    policy_id: null,
    running: true,
    ...over,
  });

  test("names every target in words, never as a raw key", () => {
    expect(describeTarget(target({}), now).text).toBe("Next response due in 3h 00m");
    expect(describeTarget(target({ target: "first_response" }), now).text).toMatch(/^First response /);
    expect(describeTarget(target({ target: "resolution" }), now).text).toMatch(/^Resolution /);
    expect(slaTargetLabel("some_future_target")).toBe("Some future target");
  });

  test("ticks over time: on track, at risk, then breached without a refetch", () => {
    const t = target({});
    expect(describeTarget(t, now).tone).toBe("info");
    const atRisk = describeTarget(t, Date.parse("2026-01-01T14:30:00Z"));
    expect(atRisk).toEqual({ tone: "warning", text: "Next response at risk: due in 30m" });
    const late = describeTarget(t, Date.parse("2026-01-01T15:12:00Z"));
    expect(late).toEqual({ tone: "danger", text: "Next response breached 12m ago" });
  });

  test("met, met late, recorded breaches and pauses", () => {
    expect(describeTarget(target({ met_at: "2026-01-01T11:00:00Z" }), now)).toEqual({ tone: "success", text: "Next response met" });
    expect(describeTarget(target({ met_at: "2026-01-01T11:00:00Z", breached_at: "2026-01-01T10:00:00Z" }), now).tone).toBe("danger");
    expect(describeTarget(target({ breached_at: "2026-01-01T11:00:00Z" }), now).text).toBe("Next response breached");
    expect(describeTarget(target({ paused_since: "2026-01-01T11:00:00Z", due_at: null }), now).text).toBe("Next response paused");
  });

  test("the next due time ahead is when the server's record changes by itself", () => {
    const soon = target({ due_at: "2026-01-01T12:30:00Z" });
    const later = target({ target: "resolution", due_at: "2026-01-01T18:00:00Z" });
    const past = target({ target: "first_response", due_at: "2026-01-01T11:00:00Z" });
    expect(nextDue([later, soon, past], now)).toBe(Date.parse("2026-01-01T12:30:00Z"));
    expect(nextDue([past, target({ paused_since: "x", due_at: null })], now)).toBeNull();
  });
});
