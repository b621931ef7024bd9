import { render } from "@testing-library/react";
import { describe, expect, test } from "vitest";
import { SlaDue } from "./SlaBadges";

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
