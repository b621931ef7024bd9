import { describe, expect, test } from "vitest";
import { choices, preselected, ratingText } from "./scale";

describe("survey scales", () => {
  test("1-5 offers five choices, best first", () => {
    expect(choices("1-5").map(([n]) => n)).toEqual([5, 4, 3, 2, 1]);
    expect(ratingText("1-5", 4)).toBe("4/5 – Satisfied");
  });
  test("good/bad offers two, stored as 5 and 1", () => {
    expect(choices("good-bad")).toEqual([[5, "Good"], [1, "Bad"]]);
    expect(ratingText("good-bad", 5)).toBe("Good");
    expect(ratingText("good-bad", 1)).toBe("Bad");
  });
  test("a link preselects only a rating its scale offers", () => {
    expect(preselected("good-bad", "5")).toBe(5);
    expect(preselected("good-bad", "3")).toBeNull();
    expect(preselected("1-5", "3")).toBe(3);
    expect(preselected("1-5", "9")).toBeNull();
    expect(preselected("1-5", null)).toBeNull();
  });
});
