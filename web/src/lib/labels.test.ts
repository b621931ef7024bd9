import { describe, expect, test } from "vitest";
import { describe as describeEvent } from "../agent/Timeline";
import { STATUSES, STATUS_LABELS, slaTargetLabel, statusLabel } from "./format";

describe("one name per status", () => {
  test("staff and the requester read the same names, except whose turn pending is", () => {
    for (const s of STATUSES) {
      if (s === "pending") continue;
      expect(statusLabel(s, true)).toBe(statusLabel(s, false));
    }
    expect(statusLabel("pending", true)).toBe("Waiting on requester");
    expect(statusLabel("pending", false)).toBe("Waiting on you");
    expect(new Set(Object.values(STATUS_LABELS)).size).toBe(STATUSES.length);
  });

  test("the timeline uses the same names, never the raw values", () => {
    expect(describeEvent("status_changed", { from: "in_progress", to: "pending" })).toBe("status changed: In progress → Waiting on requester");
    expect(describeEvent("reopened", { from: "cancelled", to: "open" })).toBe("reopened: Cancelled → Open");
    expect(describeEvent("created", { number: "SD-1", channel: "assistant" })).toBe("created by the assistant");
    expect(describeEvent("created", { number: "SD-1", channel: "email" })).toBe("created by e-mail");
    expect(describeEvent("created", { number: "SD-1", channel: "web" })).toBe("created");
    expect(describeEvent("priority_changed", { from: "low", to: "high" })).toBe("priority changed: low → high");
  });

  test("SLA targets in words", () => {
    expect(slaTargetLabel("next_response")).toBe("Next response");
  });
});
