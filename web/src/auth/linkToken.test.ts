import { describe, expect, test } from "vitest";
import { passwordProblem, renewIn, tokenFrom } from "./linkToken";

describe("tokenFrom", () => {
  test("reads the fragment first, then the query, else nothing", () => {
    expect(tokenFrom("#token=abc", "?token=zzz")).toBe("abc");
    expect(tokenFrom("", "?token=zzz")).toBe("zzz");
    expect(tokenFrom("#other=1", "")).toBe("");
  });
});

describe("passwordProblem", () => {
  test("asks for the API's minimum length and two equal entries", () => {
    expect(passwordProblem("short", "short")).toMatch(/12/);
    expect(passwordProblem("x".repeat(257), "x".repeat(257))).toMatch(/256/);
    expect(passwordProblem("a-long-passphrase", "a-long-passphrasE")).toMatch(/differ/);
    expect(passwordProblem("a-long-passphrase", "a-long-passphrase")).toBeNull();
  });
});

describe("renewIn", () => {
  test("renews before expiry, never in a tight loop", () => {
    expect(renewIn(900)).toBe(870_000);
    expect(renewIn(1)).toBe(5_000);
  });
});
