import { describe, expect, test } from "vitest";
import { STATE_LABELS, toInstant, toLocal } from "./api";

describe("change form helpers", () => {
  test("a datetime-local value and an ISO instant convert both ways", () => {
    const local = "2031-03-03T09:30";
    const instant = toInstant(local);
    expect(instant).toBe(new Date(local).toISOString());
    expect(toLocal(instant)).toBe(local);
  });

  test("empty stays empty", () => {
    expect(toInstant("")).toBeNull();
    expect(toLocal(null)).toBe("");
  });

  test("every state has words", () => {
    expect(Object.keys(STATE_LABELS)).toHaveLength(9);
    expect(STATE_LABELS.approval).toBe("Approval");
  });
});
