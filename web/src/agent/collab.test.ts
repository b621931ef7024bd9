import { describe, expect, test } from "vitest";
import { linkLabel, otherEnd, type Link } from "./collab";

const link = (kind: Link["kind"]): Link => ({ id: "L", source_id: "S", target_id: "T", kind, created_by: null, created_at: "" });

describe("links read from either end", () => {
  test("duplicate and parent links name the direction", () => {
    expect(linkLabel(link("duplicate_of"), "S")).toBe("Duplicate of");
    expect(linkLabel(link("duplicate_of"), "T")).toBe("Duplicated by");
    expect(linkLabel(link("parent_of"), "S")).toBe("Parent of");
    expect(linkLabel(link("parent_of"), "T")).toBe("Child of");
    expect(linkLabel(link("relates_to"), "T")).toBe("Related to");
  });

  test("the other end is the ticket that is not this one", () => {
    expect(otherEnd(link("relates_to"), "S")).toBe("T");
    expect(otherEnd(link("relates_to"), "T")).toBe("S");
  });
});
