import { useQueryClient, type QueryClient } from "@tanstack/react-query";
import { createContext, useCallback, useContext, useEffect, useMemo, useState, useSyncExternalStore, type ReactNode } from "react";
import { freshToken, markSignedOut } from "../api/session";
import { useAuth } from "../auth/AuthProvider";
import { keys } from "../tickets/queries";
import { LiveSocket, defaultLiveUrl, type LiveMessage, type LiveState, type Visibility } from "./socket";
import { TypingStore, visibleTypists, type Typist } from "./typing";
import { PRESENCE_BEAT_MS, PresenceStore, type PresenceState, type Viewer } from "./presence";
import { assistantStream } from "./assistantStream";

interface LiveApi {
  socket: LiveSocket | null;
  state: LiveState;
  typing: TypingStore;
  presence: PresenceStore;
}

export const LiveContext = createContext<LiveApi>({ socket: null, state: "closed", typing: new TypingStore(), presence: new PresenceStore() });

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

/** The in-app row is written by the notification consumer and the push by the realtime
 * one, from the same event but on separate queues: the push can come first. So the bell
 * asks again a little later too. */
export const NOTIFICATION_RECHECK_MS = [1_500, 5_000] as const;

type Schedule = (fn: () => void, ms: number) => unknown;

function refreshNotifications(client: QueryClient, schedule: Schedule): void {
  const refresh = () => void client.invalidateQueries({ queryKey: ["notifications"] });
  refresh();
  for (const ms of NOTIFICATION_RECHECK_MS) schedule(refresh, ms);
}

type EventListener = (event: string, ticketId: string | null) => void;
const eventListeners = new Set<EventListener>();

/** Hear every event push (ticket and comment events) while mounted: screens that show
 * aggregates (the dashboard) refetch on them, debounced (reports/live.ts). */
export function useLiveEvents(listener: EventListener): void {
  useEffect(() => {
    eventListeners.add(listener);
    return () => {
      eventListeners.delete(listener);
    };
  }, [listener]);
}

/** A push says *that* something changed; the screens refetch what it touches. Typing
 * frames go to the typing store. */
export function applyLiveMessage(
  client: QueryClient,
  message: LiveMessage,
  typing?: TypingStore,
  schedule: Schedule = setTimeout,
  presence?: PresenceStore,
): void {
  if (message.type === "typing") {
    typing?.receive(message);
    return;
  }
  if (message.type === "presence" || (message.type === "ack" && message.action === "presence")) {
    presence?.receive(message);
    return;
  }
  if (message.type.startsWith("assistant.")) {
    assistantStream.receive(message);
    return;
  }
  // This sign-in was revoked (My profile's "sign out", an admin's revoke): its refresh
  // cookie no longer works either, so back to the sign-in page now, not at the next call.
  if (message.type === "closing" && message.reason === "session_revoked") {
    markSignedOut();
    return;
  }
  if (message.type !== "event") return;
  const name = String(message.event ?? "");
  // A change created, edited or moved (the change room): the lists, its page, the calendar
  // and the ticket pages' change cards (not the settings, whose editors hold drafts).
  if (name.startsWith("change.")) {
    for (const part of ["list", "calendar", "ticket", "recent"]) void client.invalidateQueries({ queryKey: ["changes", part] });
    if (typeof message.change_id === "string") void client.invalidateQueries({ queryKey: ["changes", "change", message.change_id] });
    return;
  }
  void client.invalidateQueries({ queryKey: ["tickets", "list"] });
  // An export finished (or failed): the Exports page shows it.
  if (name.startsWith("export.")) void client.invalidateQueries({ queryKey: ["exports"] });
  for (const listener of eventListeners) listener(name, typeof message.ticket_id === "string" ? message.ticket_id : null);
  if (message.notification === true) refreshNotifications(client, schedule);
  // A project's room (project.* and task.*): that project's screens refetch, and the lists
  // across projects (the list, My tasks, a ticket's tasks).
  const projectData = (message.data ?? {}) as Record<string, unknown>;
  if ((name.startsWith("project.") || name.startsWith("task.")) && typeof projectData.project_id === "string") {
    void client.invalidateQueries({ queryKey: ["projects", "one", projectData.project_id] });
    void client.invalidateQueries({ queryKey: ["projects", "list"] });
    void client.invalidateQueries({ queryKey: ["projects", "mine"] });
    void client.invalidateQueries({ queryKey: ["projects", "ticket"] });
    return;
  }
  const ticketId = typeof message.ticket_id === "string" ? message.ticket_id : null;
  if (!ticketId) return;
  const event = String(message.event ?? "");
  const data = (message.data ?? {}) as Record<string, unknown>;
  if (event.startsWith("comment.")) {
    void client.invalidateQueries({ queryKey: keys.comments(ticketId) });
    // Staff who reply take part from then on (no push of its own).
    void client.invalidateQueries({ queryKey: keys.participants(ticketId) });
    // Their message is here: they have stopped typing it.
    if (typeof data.actor_id === "string") typing?.stopped(ticketId, data.actor_id);
  }
  // Any change can move the clocks (a reply meets a response target, a status pauses or
  // finishes them, a new priority changes the policy), so the SLA badges refetch too.
  void client.invalidateQueries({ queryKey: keys.sla(ticketId) });
  if (event.startsWith("ticket.")) {
    void client.invalidateQueries({ queryKey: keys.ticket(ticketId), exact: true });
    void client.invalidateQueries({ queryKey: keys.participants(ticketId) });
  }
  if (event === "ticket.invitation_created") void client.invalidateQueries({ queryKey: [...keys.ticket(ticketId), "invitations"] });
  // A file added or removed (on the ticket or a comment the viewer may see).
  if (event.startsWith("attachment.")) void client.invalidateQueries({ queryKey: keys.attachments(ticketId) });
  // Links and merges change the ticket's links (and a merge, who takes part).
  if (event === "ticket.linked" || event === "ticket.unlinked" || event === "ticket.merged") {
    void client.invalidateQueries({ queryKey: [...keys.ticket(ticketId), "links"] });
  }
  void client.invalidateQueries({ queryKey: keys.events(ticketId) });
}

/** One WebSocket per signed-in tab, reconnecting on its own. While it is down the screens
 * fall back to polling (`useFallbackPoll`); when it comes back, whatever may have been
 * missed meanwhile is refetched. */
export function LiveProvider({ children }: { children: ReactNode }) {
  const { state: auth } = useAuth();
  const client = useQueryClient();
  const [socket, setSocket] = useState<LiveSocket | null>(null);
  const [state, setState] = useState<LiveState>("connecting");
  const [typing] = useState(() => new TypingStore());
  const [presence] = useState(() => new PresenceStore());
  const signedIn = auth.status === "signedIn";

  useEffect(() => {
    if (!signedIn || typeof WebSocket === "undefined") return;
    let live: LiveSocket | null = null;
    let cancelled = false;
    let wasOpen = false;
    void liveUrl().then((url) => {
      if (cancelled) return;
      live = new LiveSocket({
        url,
        token: async () => (await freshToken())?.token ?? null,
        onMessage: (message) => applyLiveMessage(client, message, typing, setTimeout, presence),
        onState: (next) => {
          if (cancelled) return;
          setState(next);
          if (next === "closed") {
            typing.clear();
            presence.clear();
          }
          if (next !== "open") return;
          // Back after a drop: events sent meanwhile never reached us.
          if (wasOpen) {
            void client.invalidateQueries({ queryKey: ["tickets"] });
            void client.invalidateQueries({ queryKey: ["changes"], predicate: (q) => q.queryKey[1] !== "settings" });
            void client.invalidateQueries({ queryKey: ["notifications"] });
          }
          wasOpen = true;
        },
      });
      live.start();
      setSocket(live);
    });
    return () => {
      cancelled = true;
      live?.stop();
      typing.clear();
      presence.clear();
      setSocket(null);
      setState("connecting");
    };
  }, [signedIn, client, typing, presence]);

  const value = useMemo(() => ({ socket, state, typing, presence }), [socket, state, typing, presence]);
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>;
}

/** "open" while pushes arrive; anything else means the screens should poll. */
export function useLiveState(): LiveState {
  return useContext(LiveContext).state;
}

/** `ms` while the socket is down, else false: polling is only the fallback. */
export function useFallbackPoll(ms: number): number | false {
  return useLiveState() === "open" ? false : ms;
}

/** Hear one ticket's events while a screen shows it; refetch it every `pollMs` while the
 * socket is down. */
export function useLiveTicket(ticketId: string, pollMs = 20_000): void {
  const { socket } = useContext(LiveContext);
  const client = useQueryClient();
  const poll = useFallbackPoll(pollMs);
  useEffect(() => {
    if (!socket) return;
    socket.subscribe({ ticket_id: ticketId });
    return () => socket.unsubscribe({ ticket_id: ticketId });
  }, [socket, ticketId]);
  useEffect(() => {
    if (poll === false) return;
    const id = window.setInterval(() => {
      void client.invalidateQueries({ queryKey: keys.ticket(ticketId), exact: true });
      void client.invalidateQueries({ queryKey: keys.comments(ticketId) });
    }, poll);
    return () => window.clearInterval(id);
  }, [client, ticketId, poll]);
}

/** Hear the teams' channels (new and reassigned tickets) while a queue shows. */
export function useLiveTeams(teamIds: readonly string[]): void {
  const { socket } = useContext(LiveContext);
  const joined = [...new Set(teamIds)].sort().join(",");
  useEffect(() => {
    if (!socket || !joined) return;
    const ids = joined.split(",");
    for (const team_id of ids) socket.subscribe({ team_id });
    return () => {
      for (const team_id of ids) socket.unsubscribe({ team_id });
    };
  }, [socket, joined]);
}

/** Hear a project's room (its board, tasks, dependencies) while one of its screens shows. */
export function useLiveProject(projectId: string): void {
  const { socket } = useContext(LiveContext);
  useEffect(() => {
    if (!socket || !projectId) return;
    socket.subscribe({ project_id: projectId });
    return () => socket.unsubscribe({ project_id: projectId });
  }, [socket, projectId]);
}

/** Hear the triage queue (new and reassigned tickets that belong to no team; staff). */
export function useLiveTriage(enabled: boolean): void {
  const { socket } = useContext(LiveContext);
  useEffect(() => {
    if (!socket || !enabled) return;
    socket.subscribe({ queue: "untriaged" });
    return () => socket.unsubscribe({ queue: "untriaged" });
  }, [socket, enabled]);
}

/** Hear the change room (staff with change:read) while a change screen shows: the list,
 * a change, the calendar, a ticket's changes; poll every `pollMs` while the socket is down. */
export function useLiveChanges(enabled: boolean, pollMs = 30_000): void {
  const { socket } = useContext(LiveContext);
  const client = useQueryClient();
  const poll = useFallbackPoll(pollMs);
  useEffect(() => {
    if (!socket || !enabled) return;
    socket.subscribe({ room: "changes" });
    return () => socket.unsubscribe({ room: "changes" });
  }, [socket, enabled]);
  useEffect(() => {
    if (poll === false || !enabled) return;
    const id = window.setInterval(() => void client.invalidateQueries({ queryKey: ["changes"], predicate: (q) => q.queryKey[1] !== "settings" }), poll);
    return () => window.clearInterval(id);
  }, [client, poll, enabled]);
}

/** Who is typing on this ticket, as this viewer may know it. */
export function useTypists(ticketId: string, staff: boolean): Typist[] {
  const { typing } = useContext(LiveContext);
  const version = useSyncExternalStore(
    useCallback((notify) => typing.subscribe(notify), [typing]),
    () => typing.snapshot(),
  );
  // `version` is in the deps as the store's change signal.
  return useMemo(() => visibleTypists(typing.typists(ticketId), staff), [typing, ticketId, staff, version]);
}

/** Call on every keystroke; the socket sends at most what the server accepts. */
export function useSendTyping(ticketId: string): (visibility: Visibility) => void {
  const { socket } = useContext(LiveContext);
  return useCallback((visibility: Visibility) => void socket?.typing(ticketId, visibility), [socket, ticketId]);
}

/**
 * Staff: tell the ticket's other staff viewers that this person has it open (and whether
 * they are editing), with a heartbeat, and "left" when the screen closes. Answers who else
 * is there. Holds its own subscription to the ticket (the server wants one first).
 */
export function usePresence(ticketId: string, editing: boolean, enabled: boolean): Viewer[] {
  const { socket, state, presence } = useContext(LiveContext);
  const stateOf: PresenceState = editing ? "editing" : "viewing";
  // Its own (counted) subscription: the server takes presence on a subscribed ticket only,
  // and a child's effects run before its parent's, so the screen's `useLiveTicket` has not
  // subscribed yet when this first says "viewing" (the join would wait for the next beat).
  useEffect(() => {
    if (!socket || !enabled) return;
    socket.subscribe({ ticket_id: ticketId });
    return () => {
      socket.presence(ticketId, "left");
      presence.forget(ticketId);
      socket.unsubscribe({ ticket_id: ticketId });
    };
  }, [socket, enabled, ticketId, presence]);
  useEffect(() => {
    if (!socket || !enabled || state !== "open") return;
    socket.presence(ticketId, stateOf);
    const beat = window.setInterval(() => socket.presence(ticketId, stateOf), PRESENCE_BEAT_MS);
    return () => window.clearInterval(beat);
  }, [socket, enabled, state, ticketId, stateOf]);
  const version = useSyncExternalStore(
    useCallback((notify) => presence.subscribe(notify), [presence]),
    () => presence.snapshot(),
  );
  // `version` is in the deps as the store's change signal.
  return useMemo(() => (enabled ? presence.viewers(ticketId) : []), [presence, ticketId, enabled, version]);
}
