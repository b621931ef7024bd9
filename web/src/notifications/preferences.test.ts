import { describe, expect, test } from "vitest";
import { changedItems, prefKey, visibleEvents } from "./preferences";

describe("notification preferences", () => {
  const saved = [
    { event_type: "comment.public", channel: "email", enabled: true },
    { event_type: "comment.public", channel: "in_app", enabled: true },
  ];

  test("a save sends only what changed", () => {
    const form = new Map([
      [prefKey("comment.public", "email"), false],
      [prefKey("comment.public", "in_app"), true],
    ]);
    expect(changedItems(saved, form)).toEqual([{ event_type: "comment.public", channel: "email", enabled: false }]);
    expect(changedItems(saved, new Map([[prefKey("comment.public", "email"), true]]))).toEqual([]);
  });

  test("requesters are not offered the staff-only kinds", () => {
    expect(visibleEvents(false)).not.toContain("comment.internal");
    expect(visibleEvents(false)).not.toContain("sla.breached");
    expect(visibleEvents(true)).toContain("sla.breached");
  });
});
