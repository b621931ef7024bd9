import { afterEach, describe, expect, test, vi } from "vitest";
import { TYPING_SHOWN_MS, TypingStore, typingText, visibleTypists } from "./typing";

afterEach(() => {
  vi.useRealTimers();
});

const frame = (user: string, visibility: string, name = user) => ({ type: "typing", ticket_id: "T1", user_id: user, name, visibility });

describe("TypingStore", () => {
  test("shows a typist until the indicator runs out, then tells the screens", () => {
    vi.useFakeTimers();
    const store = new TypingStore(() => Date.now());
    const seen: number[] = [];
    store.subscribe(() => seen.push(store.snapshot()));
    store.receive(frame("u1", "public", "Alex"));
    expect(store.typists("T1").map((t) => t.name)).toEqual(["Alex"]);
    expect(store.typists("T2")).toEqual([]);
    vi.advanceTimersByTime(TYPING_SHOWN_MS + 100);
    expect(store.typists("T1")).toEqual([]);
    expect(seen.length).toBe(2); // the frame, then the expiry
  });

  test("a message from the typist ends their indicator; malformed frames are ignored", () => {
    const store = new TypingStore(() => 0);
    store.receive(frame("u1", "public"));
    store.receive({ type: "typing", ticket_id: "T1", user_id: "u2", visibility: "shouting" });
    store.receive({ type: "typing", ticket_id: 7, user_id: "u3", visibility: "public" });
    expect(store.typists("T1").map((t) => t.userId)).toEqual(["u1"]);
    store.stopped("T1", "u1");
    expect(store.typists("T1")).toEqual([]);
  });
});

describe("what a screen shows", () => {
  const store = new TypingStore(() => 0);
  store.receive(frame("agent", "internal", "Alex Agent"));

  test("a requester's screen never shows an internal note being written", () => {
    expect(visibleTypists(store.typists("T1"), false)).toEqual([]);
    expect(typingText(visibleTypists(store.typists("T1"), false))).toBe("");
  });

  test("staff see it, said as a note", () => {
    expect(typingText(visibleTypists(store.typists("T1"), true))).toBe("Alex Agent is writing an internal note…");
  });

  test("one, two and three typists", () => {
    const t = (name: string) => ({ userId: name, name, visibility: "public" as const, until: 1 });
    expect(typingText([t("Alex")])).toBe("Alex is typing…");
    expect(typingText([t("Alex"), t("Sam")])).toBe("Alex and Sam are typing…");
    expect(typingText([t("Alex"), t("Sam"), t("Kim")])).toBe("Alex, Sam and Kim are typing…");
  });
});
