import { describe, expect, test } from "vitest";
import { AssistantStream } from "./assistantStream";

const delta = (conversation_id: string, round: number, seq: number, text: string) => ({
  type: "assistant.delta",
  conversation_id,
  round,
  seq,
  delta: text,
});

describe("AssistantStream", () => {
  test("orders deltas by seq, a newer round replaces the older, done keeps the text, an error clears", () => {
    const stream = new AssistantStream();
    let heard = 0;
    stream.subscribe(() => (heard += 1));
    stream.receive(delta("c1", 0, 1, "world"));
    stream.receive(delta("c1", 0, 0, "Hello "));
    expect(stream.snapshot()).toEqual({ conversationId: "c1", text: "Hello world" });
    stream.receive(delta("c1", 1, 0, "Done"));
    expect(stream.snapshot().text).toBe("Done");
    stream.receive(delta("c1", 0, 2, " late"));
    expect(stream.snapshot().text).toBe("Done");
    stream.receive({ type: "assistant.done", conversation_id: "other" });
    expect(stream.snapshot().text).toBe("Done");
    // Done keeps the text on screen until the REST response's final message replaces it.
    stream.receive({ type: "assistant.done", conversation_id: "c1" });
    expect(stream.snapshot().text).toBe("Done");
    stream.receive({ type: "assistant.error", conversation_id: "c1" });
    expect(stream.snapshot()).toEqual({ conversationId: null, text: "" });
    expect(heard).toBe(4); // three deltas shown, one error; the late, foreign and done frames change nothing
  });

  test("another conversation starts over; malformed frames are ignored", () => {
    const stream = new AssistantStream();
    stream.receive(delta("c1", 0, 0, "one"));
    stream.receive(delta("c2", 0, 0, "two"));
    expect(stream.snapshot()).toEqual({ conversationId: "c2", text: "two" });
    stream.receive({ type: "assistant.delta", conversation_id: "c2", delta: 42 });
    expect(stream.snapshot().text).toBe("two");
    stream.reset();
    expect(stream.snapshot().text).toBe("");
  });
});
