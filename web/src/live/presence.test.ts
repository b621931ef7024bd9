import { afterEach, describe, expect, test, vi } from "vitest";
import { PRESENCE_TTL_MS, PresenceStore, presenceText } from "./presence";

afterEach(() => {
  vi.useRealTimers();
});

const frame = (user: string, state: string, name = user) => ({ type: "presence", ticket_id: "T1", user_id: user, name, state });

describe("PresenceStore", () => {
  test("an ack lists who is there; frames add, change and remove viewers", () => {
    const store = new PresenceStore(() => 0);
    store.receive({ type: "ack", action: "presence", channel: "ticket:T1", present: [{ user_id: "u1", name: "Sam", state: "viewing" }, { bad: true }] });
    expect(store.viewers("T1").map((v) => [v.name, v.state])).toEqual([["Sam", "viewing"]]);
    store.receive(frame("u2", "editing", "Alex"));
    store.receive(frame("u1", "editing", "Sam"));
    expect(store.viewers("T1").map((v) => [v.name, v.state])).toEqual([
      ["Sam", "editing"],
      ["Alex", "editing"],
    ]);
    store.receive(frame("u1", "left"));
    store.receive(frame("u3", "dancing"));
    expect(store.viewers("T1").map((v) => v.userId)).toEqual(["u2"]);
  });

  test("a viewer whose heartbeat stops is dropped", () => {
    vi.useFakeTimers();
    const store = new PresenceStore(() => Date.now());
    store.receive(frame("u1", "viewing"));
    vi.advanceTimersByTime(PRESENCE_TTL_MS + 100);
    expect(store.viewers("T1")).toEqual([]);
  });
});

describe("presenceText", () => {
  test("says who else is viewing or editing", () => {
    const v = (name: string, state: "viewing" | "editing") => ({ userId: name, name, state, until: 1 });
    expect(presenceText([])).toBe("");
    expect(presenceText([v("Sam", "viewing")])).toBe("Sam is also viewing this ticket");
    expect(presenceText([v("Sam", "editing")])).toBe("Sam is also editing this ticket");
    expect(presenceText([v("Sam", "viewing"), v("Alex", "editing")])).toBe("Sam and Alex are also viewing this ticket (Alex is editing)");
  });
});
