import { describe, expect, test } from "vitest";
import { LiveSocket, TYPING_INTERVAL_MS, backoffDelay, defaultLiveUrl } from "./socket";

/** A stand-in for the browser's WebSocket: the test opens, closes and feeds it. */
class FakeSocket {
  static instances: FakeSocket[] = [];
  readyState = 0;
  onopen: (() => void) | null = null;
  onclose: (() => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  sent: string[] = [];
  constructor(
    public url: string,
    public protocols: string[],
  ) {
    FakeSocket.instances.push(this);
  }
  send(data: string) {
    this.sent.push(data);
  }
  close() {
    this.readyState = 3;
    this.onclose?.();
  }
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
}

function harness(tokens: (string | null)[], clock = { now: 0 }) {
  FakeSocket.instances = [];
  const timers: { fn: () => void; ms: number }[] = [];
  const messages: unknown[] = [];
  const states: string[] = [];
  const live = new LiveSocket({
    url: "ws://example.test/ws",
    token: async () => (tokens.length ? (tokens.shift() as string | null) : "t-last"),
    onMessage: (m) => messages.push(m),
    onState: (s) => states.push(s),
    random: () => 1,
    baseDelayMs: 100,
    maxDelayMs: 1000,
    createSocket: (url, protocols) => new FakeSocket(url, protocols) as unknown as WebSocket,
    setTimer: (fn, ms) => {
      timers.push({ fn, ms });
      return timers.length;
    },
    clearTimer: () => undefined,
    now: () => clock.now,
  });
  return { live, timers, messages, states };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe("backoff", () => {
  test("doubles from the base up to the cap, scaled by the jitter", () => {
    expect([0, 1, 2, 3, 4, 5].map((a) => backoffDelay(a, 100, 1000, () => 1))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffDelay(3, 100, 1000, () => 0.5)).toBe(400);
    expect(backoffDelay(60, 100, 30_000, () => 0.999)).toBeLessThan(30_000);
  });
});

describe("LiveSocket", () => {
  test("connects with the token, passes messages on, reconnects with growing delays", async () => {
    const { live, timers, messages, states } = harness(["t1", "t2"]);
    live.start();
    await tick();
    const first = FakeSocket.instances[0]!;
    expect(first.url).toBe("ws://example.test/ws");
    expect(first.protocols).toEqual(["servicedesk.v1", "bearer.t1"]);
    live.subscribe({ ticket_id: "T1" });
    expect(first.sent).toEqual([]); // not open yet: sent on open
    first.open();
    expect(first.sent.map((f) => JSON.parse(f))).toEqual([{ action: "subscribe", ticket_id: "T1" }]);
    const event = { type: "event", event: "comment.public", event_id: "e1", ticket_id: "T1" };
    first.onmessage?.({ data: JSON.stringify(event) });
    first.onmessage?.({ data: JSON.stringify(event) }); // at-least-once delivery: a repeat
    first.onmessage?.({ data: "not json" });
    expect(messages).toEqual([event]);

    first.close();
    expect(timers.map((t) => t.ms)).toEqual([100]);
    timers[0]!.fn();
    await tick();
    const second = FakeSocket.instances[1]!;
    expect(second.protocols).toEqual(["servicedesk.v1", "bearer.t2"]);
    second.close(); // closed before it ever opened: the delay grows
    expect(timers.map((t) => t.ms)).toEqual([100, 200]);
    timers[1]!.fn();
    await tick();
    const third = FakeSocket.instances[2]!;
    third.open(); // subscriptions come back after a reconnect
    expect(third.sent.map((f) => JSON.parse(f))).toEqual([{ action: "subscribe", ticket_id: "T1" }]);
    expect(states).toContain("open");
    live.stop();
  });

  test("without a token it waits and tries again; stop() ends it for good", async () => {
    const { live, timers } = harness([null]);
    live.start();
    await tick();
    expect(FakeSocket.instances).toHaveLength(0);
    expect(timers).toHaveLength(1);
    live.stop();
    timers[0]!.fn();
    await tick();
    expect(FakeSocket.instances).toHaveLength(0);
  });

  test("subscriptions are counted: the last unsubscribe leaves the channel", async () => {
    const { live } = harness(["t1"]);
    live.start();
    await tick();
    const socket = FakeSocket.instances[0]!;
    socket.open();
    live.subscribe({ team_id: "A" });
    live.subscribe({ team_id: "A" }); // a second screen hearing the same team
    live.unsubscribe({ team_id: "A" });
    live.unsubscribe({ ticket_id: "never" }); // not held: nothing to send
    expect(socket.sent.map((f) => JSON.parse(f))).toEqual([{ action: "subscribe", team_id: "A" }]);
    live.unsubscribe({ team_id: "A" });
    expect(socket.sent.map((f) => JSON.parse(f)).at(-1)).toEqual({ action: "unsubscribe", team_id: "A" });
    live.stop();
  });

  test("typing goes only on a subscribed ticket, at most once per interval", async () => {
    const clock = { now: 10_000 };
    const { live } = harness(["t1"], clock);
    live.start();
    await tick();
    const socket = FakeSocket.instances[0]!;
    socket.open();
    expect(live.typing("T1", "public")).toBe(false); // not subscribed: the server would refuse
    live.subscribe({ ticket_id: "T1" });
    expect(live.typing("T1", "public")).toBe(true);
    clock.now += TYPING_INTERVAL_MS - 1;
    expect(live.typing("T1", "internal")).toBe(false); // the server's limit is per ticket, any visibility
    clock.now += 1;
    expect(live.typing("T1", "internal")).toBe(true);
    const frames = socket.sent.map((f) => JSON.parse(f)).filter((f) => f.action === "typing");
    expect(frames).toEqual([
      { action: "typing", ticket_id: "T1", visibility: "public" },
      { action: "typing", ticket_id: "T1", visibility: "internal" },
    ]);
    live.stop();
  });

  test("the URL follows the page's scheme and host", () => {
    expect(defaultLiveUrl({ protocol: "https:", host: "desk.example.com" } as Location)).toBe("wss://desk.example.com/ws");
    expect(defaultLiveUrl({ protocol: "http:", host: "127.0.0.1:8000" } as Location)).toBe("ws://127.0.0.1:8000/ws");
  });
});
