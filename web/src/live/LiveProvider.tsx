import { useQueryClient, type QueryClient } from "@tanstack/react-query";
import { createContext, useContext, useEffect, useState, type ReactNode } from "react";
import { freshToken } from "../api/session";
import { useAuth } from "../auth/AuthProvider";
import { keys } from "../tickets/queries";
import { LiveSocket, defaultLiveUrl, type LiveMessage } from "./socket";

const LiveContext = createContext<LiveSocket | null>(null);

/** The WebSocket URL from the runtime config (/config.json, written by the web stack in
 * AWS, where the WebSocket API has its own host), else this origin's /ws. */
export async function liveUrl(fetcher: typeof fetch = fetch): Promise<string> {
  try {
    const response = await fetcher("/config.json", { cache: "no-store" });
    if (response.ok) {
      const config = (await response.json()) as { websocketUrl?: unknown };
      if (typeof config.websocketUrl === "string" && /^wss?:\/\//.test(config.websocketUrl)) return config.websocketUrl;
    }
  } catch {
    // No runtime config: the same origin it is.
  }
  return defaultLiveUrl();
}

/** A push says *that* something changed; the screens refetch what it touches. */
export function applyLiveMessage(client: QueryClient, message: LiveMessage): void {
  if (message.type !== "event") return;
  void client.invalidateQueries({ queryKey: ["tickets", "list"] });
  const ticketId = typeof message.ticket_id === "string" ? message.ticket_id : null;
  if (!ticketId) return;
  const event = String(message.event ?? "");
  if (event.startsWith("comment.")) void client.invalidateQueries({ queryKey: keys.comments(ticketId) });
  if (event.startsWith("sla.")) void client.invalidateQueries({ queryKey: keys.sla(ticketId) });
  if (event.startsWith("ticket.")) void client.invalidateQueries({ queryKey: keys.ticket(ticketId), exact: true });
  void client.invalidateQueries({ queryKey: keys.events(ticketId) });
}

/** One WebSocket per signed-in tab, reconnecting on its own. Screens keep polling, so a
 * missing or failing realtime endpoint only makes updates slower. */
export function LiveProvider({ children }: { children: ReactNode }) {
  const { state } = useAuth();
  const client = useQueryClient();
  const [live, setLive] = useState<LiveSocket | null>(null);
  const signedIn = state.status === "signedIn";

  useEffect(() => {
    if (!signedIn || typeof WebSocket === "undefined") return;
    let socket: LiveSocket | null = null;
    let cancelled = false;
    void liveUrl().then((url) => {
      if (cancelled) return;
      socket = new LiveSocket({
        url,
        token: async () => (await freshToken())?.token ?? null,
        onMessage: (message) => applyLiveMessage(client, message),
      });
      socket.start();
      setLive(socket);
    });
    return () => {
      cancelled = true;
      socket?.stop();
      setLive(null);
    };
  }, [signedIn, client]);

  return <LiveContext.Provider value={live}>{children}</LiveContext.Provider>;
}

/** Hear one ticket's events while a screen shows it. */
export function useLiveTicket(ticketId: string): void {
  const live = useContext(LiveContext);
  useEffect(() => {
    if (!live) return;
    live.subscribe({ ticket_id: ticketId });
    return () => live.unsubscribe({ ticket_id: ticketId });
  }, [live, ticketId]);
}
