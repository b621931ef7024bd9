import { describe, expect, test } from "vitest";
import { STATE_LABELS, searchable, toInstant, toLocal } from "./api";

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

describe("the change search box", () => {
  test("a number is searchable, with or without CHG-", () => {
    expect(searchable("CHG-12")).toBe("CHG-12");
    expect(searchable(" chg12 ")).toBe("chg12");
    expect(searchable("7")).toBe("7");
  });

  test("words need 3 characters; shorter text is not sent", () => {
    expect(searchable("db")).toBeNull();
    expect(searchable("%%%")).toBeNull();
    expect(searchable("  ")).toBeNull();
    expect(searchable("db server")).toBe("db server");
    expect(searchable("Müll")).toBe("Müll");
  });

  test("at most 200 characters are sent", () => {
    expect(searchable("x".repeat(300))).toHaveLength(200);
  });
});
