import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import { describe, expect, test } from "vitest";
import { LiveContext, useLiveTicket } from "./LiveProvider";
import { PresenceHint } from "./PresenceHint";
import { PresenceStore } from "./presence";
import { LiveSocket } from "./socket";
import { TypingStore } from "./typing";

/** The browser's WebSocket, open, recording what the app sends. */
class OpenSocket {
  readyState = 1;
  onopen: (() => void) | null = null;
  onclose: (() => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  sent: { action: string; ticket_id?: string; state?: string }[] = [];
  send(data: string) {
    this.sent.push(JSON.parse(data) as { action: string });
  }
  close() {}
}

function TicketScreen({ ticketId }: { ticketId: string }) {
  useLiveTicket(ticketId); // the parent subscribes in its effect, which runs after the child's
  return <PresenceHint ticketId={ticketId} editing={false} />;
}

describe("PresenceHint on a screen reached in the app (the socket already open)", () => {
  test("says 'viewing' on a subscribed ticket at once, and 'left' before leaving the room", async () => {
    const ws = new OpenSocket();
    const live = new LiveSocket({ url: "ws://x.test/ws", token: async () => "t", onMessage: () => undefined, createSocket: () => ws as unknown as WebSocket });
    live.start();
    await new Promise((r) => setTimeout(r, 0));
    ws.onopen?.();
    const value = { socket: live, state: "open" as const, typing: new TypingStore(), presence: new PresenceStore() };
    const view = render(
      <QueryClientProvider client={new QueryClient()}>
        <LiveContext.Provider value={value}>
          <TicketScreen ticketId="T1" />
        </LiveContext.Provider>
      </QueryClientProvider>,
    );
    const frames = () => ws.sent.filter((f) => f.action !== "ping").map((f) => `${f.action}${f.state ? `:${f.state}` : ""}`);
    expect(frames()).toEqual(["subscribe", "presence:viewing"]);
    view.unmount();
    expect(frames()).toEqual(["subscribe", "presence:viewing", "presence:left", "unsubscribe"]);
    live.stop();
  });
});
