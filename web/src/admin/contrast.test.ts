import { describe, expect, test } from "vitest";
import { contrastProblems, ratio } from "./contrast";

// The same cases as tests/integration/test_branding.py and the API's rule.
describe("the contrast rule", () => {
  test("agrees with WCAG's reference values", () => {
    expect(ratio("#000000", "#ffffff")).toBeCloseTo(21, 5);
    expect(Math.round(ratio("#777777", "#ffffff") * 100) / 100).toBe(4.48);
  });
  test("checks every surface a colour meets", () => {
    expect(contrastProblems("primary_color", "#767676")).toHaveLength(2); // 4.23:1 on --sd-bg, 3.9:1 on the tint
    expect(contrastProblems("primary_color", "#595959")).toEqual([]);
    expect(contrastProblems("primary_color", "#7aa7ff").length).toBeGreaterThan(0);
    expect(contrastProblems("accent_color", "#c2410c")).toEqual([]);
    expect(contrastProblems("accent_color", "#0b5cad")).toHaveLength(1); // dark surface
    expect(contrastProblems("primary_color", "#0b5cad")).toEqual([]);
  });
});
