import { describe, expect, test } from "vitest";
import { visibleMessages } from "./messages";

describe("visibleMessages", () => {
  test("keeps the person's messages and the assistant's answers, not the tools' working", () => {
    const all = [
      { role: "user", content: "My VPN is down" },
      { role: "assistant", content: "" },
      { role: "tool", content: '{"results": []}' },
      { role: "assistant", content: "  " },
      { role: "assistant", content: "Try restarting the client." },
    ];
    expect(visibleMessages(all).map((m) => m.content)).toEqual(["My VPN is down", "Try restarting the client."]);
  });
});
