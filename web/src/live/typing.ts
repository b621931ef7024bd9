import { ExpiringRoster, joinNames, nameOf } from "./roster";
import type { LiveMessage, Visibility } from "./socket";
import { t } from "../i18n";

/** How long "X is typing…" stays after the last frame (typists send one every ~2 s). */
export const TYPING_SHOWN_MS = 6_000;

export interface Typist {
  userId: string;
  name: string;
  visibility: Visibility;
  until: number;
}

/**
 * Who is typing where, from the server's `typing` frames. The server already keeps
 * internal-note typing from non-staff connections; `visibleTypists` drops it again for a
 * requester's screen, so a frame that should never have come still shows nothing.
 */
export class TypingStore extends ExpiringRoster<Typist> {
  /** A `typing` frame; anything malformed is ignored. */
  receive(message: LiveMessage): void {
    const { ticket_id: ticketId, user_id: userId, name, visibility } = message;
    if (typeof ticketId !== "string" || typeof userId !== "string") return;
    if (visibility !== "public" && visibility !== "internal") return;
    this.put(ticketId, { userId, name: nameOf(name), visibility, until: this.now() + TYPING_SHOWN_MS });
  }

  /** Their message arrived: they are not typing it any more. */
  stopped(ticketId: string, userId: string): void {
    this.remove(ticketId, userId);
  }

  typists(ticketId: string): Typist[] {
    return this.entries(ticketId);
  }
}

/** What a screen may show: a requester never hears of internal notes being written. */
export function visibleTypists(typists: Typist[], staff: boolean): Typist[] {
  return staff ? typists : typists.filter((typist) => typist.visibility === "public");
}

/** "Alex is typing…", "Alex is writing an internal note…", "Alex and Sam are typing…". */
export function typingText(typists: Typist[]): string {
  if (!typists.length) return "";
  if (typists.length === 1) {
    const [one] = typists as [Typist];
    return t(one.visibility === "internal" ? "live.typing.note" : "live.typing.one", { name: one.name });
  }
  return t("live.typing.many", { names: joinNames(typists.map((typist) => typist.name)) });
}
