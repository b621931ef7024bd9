import { describe, expect, test } from "vitest";
import { avatarProblem } from "../profile/AvatarCard";
import { initials } from "./Avatar";

describe("avatars", () => {
  test("initials of the first and last words", () => {
    expect(initials("Ada Lovelace")).toBe("AL");
    expect(initials("ada")).toBe("A");
    expect(initials("Jean-Luc de la Picard")).toBe("JP");
    expect(initials("  ")).toBe("?");
    expect(initials("émile zola")).toBe("ÉZ");
  });

  test("the early word on a file names the problem", () => {
    expect(avatarProblem({ type: "image/png", size: 10 })).toBeNull();
    expect(avatarProblem({ type: "image/svg+xml", size: 10 })).toBe("avatar.type");
    expect(avatarProblem({ type: "image/jpeg", size: 2 * 1024 * 1024 })).toBe("avatar.tooLarge");
  });
});
