import { describe, expect, test } from "vitest";
import { DEFAULT_MATRIX, priorityFor, type PriorityMatrix } from "./priority";

describe("priorityFor", () => {
  test("impact x urgency through the tenant's matrix", () => {
    expect(priorityFor(DEFAULT_MATRIX, "high", "critical")).toBe("critical");
    expect(priorityFor(DEFAULT_MATRIX, "low", "medium")).toBe("low");
    const flat = Object.fromEntries(
      (["low", "medium", "high", "critical"] as const).map((i) => [i, { low: "low", medium: "low", high: "low", critical: "low" }]),
    ) as PriorityMatrix;
    expect(priorityFor(flat, "critical", "critical")).toBe("low");
  });

  test("only both together set a priority", () => {
    expect(priorityFor(DEFAULT_MATRIX, "high", "")).toBeNull();
    expect(priorityFor(DEFAULT_MATRIX, null, "high")).toBeNull();
  });

  test("without the tenant's matrix, the default one", () => {
    expect(priorityFor(undefined, "medium", "high")).toBe("high");
  });
});
