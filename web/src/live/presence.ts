import { ExpiringRoster, joinNames, nameOf } from "./roster";
import type { LiveMessage } from "./socket";
import { t } from "../i18n";

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
export class PresenceStore extends ExpiringRoster<Viewer> {
  /** A `presence` frame, or the ack of ours (`present`: who is there now); else ignored. */
  receive(message: LiveMessage): void {
    if (message.type === "ack" && message.action === "presence" && Array.isArray(message.present)) {
      const ticketId = typeof message.channel === "string" ? message.channel.replace(/^ticket:/, "") : null;
      if (!ticketId) return;
      const viewers = (message.present as unknown[]).map((entry) => this.viewer(entry)).filter((v): v is Viewer => v !== null);
      this.replace(ticketId, viewers);
      return;
    }
    if (message.type !== "presence" || typeof message.ticket_id !== "string") return;
    if (message.state === "left") {
      if (typeof message.user_id === "string") this.remove(message.ticket_id, message.user_id);
      return;
    }
    const viewer = this.viewer(message);
    if (viewer) this.put(message.ticket_id, viewer);
  }

  viewers(ticketId: string): Viewer[] {
    return this.entries(ticketId);
  }

  private viewer(entry: unknown): Viewer | null {
    if (!entry || typeof entry !== "object") return null;
    const { user_id: userId, name, state } = entry as Record<string, unknown>;
    if (typeof userId !== "string" || (state !== "viewing" && state !== "editing")) return null;
    return { userId, name: nameOf(name), state, until: this.now() + PRESENCE_TTL_MS };
  }
}

/** "Sam is also viewing", "Sam is editing", "Sam and Alex are also viewing (Alex is editing)". */
export function presenceText(viewers: Viewer[]): string {
  if (!viewers.length) return "";
  const list = joinNames(viewers.map((v) => v.name));
  const editing = viewers.filter((v) => v.state === "editing").map((v) => v.name);
  if (viewers.length === 1) return t(editing.length ? "live.presence.editing" : "live.presence.viewing", { name: list });
  if (!editing.length) return t("live.presence.many", { names: list });
  return t(editing.length === 1 ? "live.presence.manyOneEditing" : "live.presence.manyEditing", { names: list, editing: editing.join(", ") });
}
