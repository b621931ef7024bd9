import { describe, expect, test } from "vitest";
import { AVATAR_SIDE, fitWithin } from "./resize";

describe("an avatar's size before upload", () => {
  test("a large picture fits within 256×256, proportions kept", () => {
    expect(fitWithin(1024, 768)).toEqual({ width: 256, height: 192 });
    expect(fitWithin(300, 4000)).toEqual({ width: 19, height: AVATAR_SIDE });
    expect(fitWithin(5000, 5000)).toEqual({ width: 256, height: 256 });
  });

  test("a small one is never enlarged, and nothing is ever 0 pixels", () => {
    expect(fitWithin(64, 32)).toEqual({ width: 64, height: 32 });
    expect(fitWithin(256, 256)).toEqual({ width: 256, height: 256 });
    expect(fitWithin(10_000, 1)).toEqual({ width: 256, height: 1 });
    expect(fitWithin(0, 0)).toEqual({ width: 1, height: 1 });
  });
});
