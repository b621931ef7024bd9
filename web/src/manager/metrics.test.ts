import { describe, expect, test } from "vitest";
import { niceMax } from "./metrics";

describe("axes", () => {
  test("axis maxima are round", () => {
    expect(niceMax(0)).toBe(1);
    expect(niceMax(1)).toBe(1);
    expect(niceMax(7)).toBe(10);
    expect(niceMax(11)).toBe(20);
    expect(niceMax(42)).toBe(50);
    expect(niceMax(0.4)).toBe(1);
    expect(niceMax(5400)).toBe(10000);
  });
});
