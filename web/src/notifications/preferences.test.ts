import { describe, expect, test } from "vitest";
import { changedItems, customisedEmail, prefKey, visibleEvents } from "./preferences";

describe("notification preferences", () => {
  const saved = [
    { event_type: "comment.public", channel: "email", enabled: true, tenant_default: true, customised: false },
    { event_type: "comment.public", channel: "in_app", enabled: true, tenant_default: true, customised: true },
  ];

  test("a save sends only what changed", () => {
    const form = new Map([
      [prefKey("comment.public", "email"), false],
      [prefKey("comment.public", "in_app"), true],
    ]);
    expect(changedItems(saved, form)).toEqual([{ event_type: "comment.public", channel: "email", enabled: false }]);
    expect(changedItems(saved, new Map([[prefKey("comment.public", "email"), true]]))).toEqual([]);
  });

  test("using the defaults forgets only one's own e-mail choices", () => {
    const mine = [...saved, { event_type: "sla.warning", channel: "email", enabled: false, tenant_default: true, customised: true }];
    expect(customisedEmail(mine)).toEqual([{ event_type: "sla.warning", channel: "email" }]);
  });

  test("requesters are not offered the staff-only kinds", () => {
    expect(visibleEvents(false)).not.toContain("comment.internal");
    expect(visibleEvents(false)).not.toContain("sla.breached");
    expect(visibleEvents(true)).toContain("sla.breached");
  });
});
