import type { LiveMessage } from "./socket";

/** The server forgets a viewer 45 s after their last heartbeat; we beat every 20 s. */
export const PRESENCE_TTL_MS = 45_000;
export const PRESENCE_BEAT_MS = 20_000;
export type PresenceState = "viewing" | "editing";

export interface Viewer {
  userId: string;
  name: string;
  state: PresenceState;
  until: number;
}

/**
 * Who else (staff) has a ticket open, from the server's `presence` frames and the list in
 * the ack of our own `presence` frame. A viewer is dropped when they leave or when their
 * heartbeat runs out.
 */
export class PresenceStore {
  private readonly byTicket = new Map<string, Map<string, Viewer>>();
  private readonly listeners = new Set<() => void>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private version = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** A `presence` frame, or the ack of ours (`present`: who is there now); else ignored. */
  receive(message: LiveMessage): void {
    if (message.type === "ack" && message.action === "presence" && Array.isArray(message.present)) {
      const ticketId = typeof message.channel === "string" ? message.channel.replace(/^ticket:/, "") : null;
      if (!ticketId) return;
      const viewers = new Map<string, Viewer>();
      for (const entry of message.present as unknown[]) {
        const viewer = this.viewer(entry);
        if (viewer) viewers.set(viewer.userId, viewer);
      }
      this.byTicket.set(ticketId, viewers);
      this.changed();
      return;
    }
    if (message.type !== "presence" || typeof message.ticket_id !== "string") return;
    const ticketId = message.ticket_id;
    if (message.state === "left") {
      if (typeof message.user_id === "string" && this.byTicket.get(ticketId)?.delete(message.user_id)) this.changed();
      return;
    }
    const viewer = this.viewer(message);
    if (!viewer) return;
    let viewers = this.byTicket.get(ticketId);
    if (!viewers) this.byTicket.set(ticketId, (viewers = new Map()));
    viewers.set(viewer.userId, viewer);
    this.changed();
  }

  viewers(ticketId: string): Viewer[] {
    const now = this.now();
    return [...(this.byTicket.get(ticketId)?.values() ?? [])].filter((v) => v.until > now);
  }

  forget(ticketId: string): void {
    if (this.byTicket.delete(ticketId)) this.changed();
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  snapshot(): number {
    return this.version;
  }

  clear(): void {
    this.byTicket.clear();
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.changed();
  }

  private viewer(entry: unknown): Viewer | null {
    if (!entry || typeof entry !== "object") return null;
    const { user_id: userId, name, state } = entry as Record<string, unknown>;
    if (typeof userId !== "string" || (state !== "viewing" && state !== "editing")) return null;
    return { userId, name: typeof name === "string" && name.trim() ? name : "Someone", state, until: this.now() + PRESENCE_TTL_MS };
  }

  private changed(): void {
    this.version += 1;
    for (const listener of this.listeners) listener();
    this.schedulePrune();
  }

  private schedulePrune(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    let next = Infinity;
    for (const viewers of this.byTicket.values()) for (const v of viewers.values()) next = Math.min(next, v.until);
    if (next === Infinity) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      const now = this.now();
      for (const [ticketId, viewers] of this.byTicket) {
        for (const [userId, v] of viewers) if (v.until <= now) viewers.delete(userId);
        if (!viewers.size) this.byTicket.delete(ticketId);
      }
      this.changed();
    }, Math.max(0, next - this.now()) + 50);
  }
}

/** "Sam is also viewing", "Sam is editing", "Sam and Alex are also viewing (Alex is editing)". */
export function presenceText(viewers: Viewer[]): string {
  if (!viewers.length) return "";
  const names = viewers.map((v) => v.name);
  const list = names.length === 1 ? names[0]! : names.length === 2 ? `${names[0]} and ${names[1]}` : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
  const editing = viewers.filter((v) => v.state === "editing").map((v) => v.name);
  if (viewers.length === 1) return editing.length ? `${list} is also editing this ticket` : `${list} is also viewing this ticket`;
  const base = `${list} are also viewing this ticket`;
  return editing.length ? `${base} (${editing.join(", ")} ${editing.length === 1 ? "is" : "are"} editing)` : base;
}
