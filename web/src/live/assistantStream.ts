import type { LiveMessage } from "./socket";

/**
 * The assistant's answer as it is written: `assistant.delta` frames on the caller's own
 * WebSocket (docs/assistant.md, "Streaming"), put in order by `seq`; a newer `round` (the
 * model wrote again after calling tools) replaces the older one. `assistant.error` clears
 * it; after `assistant.done` it stays until the REST response's final message replaces it.
 */
export interface StreamState {
  conversationId: string | null;
  text: string;
}

const EMPTY: StreamState = { conversationId: null, text: "" };

export class AssistantStream {
  private state: StreamState = EMPTY;
  private round = -1;
  private parts = new Map<number, string>();
  private listeners = new Set<() => void>();

  receive(message: LiveMessage): void {
    const conversationId = typeof message.conversation_id === "string" ? message.conversation_id : null;
    // Done: the text stays until the REST response brings the final message in its place
    // (the widget resets then); clearing it here would show "thinking" in between. An
    // error ends the turn with nothing to keep.
    if (message.type === "assistant.done") return;
    if (message.type === "assistant.error") {
      if (conversationId === this.state.conversationId) this.reset();
      return;
    }
    if (message.type !== "assistant.delta" || typeof message.delta !== "string") return;
    const round = typeof message.round === "number" ? message.round : 0;
    const seq = typeof message.seq === "number" ? message.seq : this.parts.size;
    if (conversationId !== this.state.conversationId || round > this.round) {
      this.parts = new Map();
      this.round = round;
    } else if (round < this.round) {
      return; // a late frame of a round already superseded
    }
    this.parts.set(seq, message.delta);
    const text = [...this.parts.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, piece]) => piece)
      .join("");
    this.emit({ conversationId, text });
  }

  /** A new turn starts: nothing of the last one is shown. */
  reset(): void {
    this.parts = new Map();
    this.round = -1;
    this.emit(EMPTY);
  }

  snapshot = (): StreamState => this.state;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  private emit(state: StreamState): void {
    this.state = state;
    for (const listener of this.listeners) listener();
  }
}

/** One per tab, fed by the live socket (LiveProvider's applyLiveMessage). */
export const assistantStream = new AssistantStream();
