import type { LiveMessage, Visibility } from "./socket";

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
export class TypingStore {
  private readonly byTicket = new Map<string, Map<string, Typist>>();
  private readonly listeners = new Set<() => void>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private version = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** A `typing` frame; anything malformed is ignored. */
  receive(message: LiveMessage): void {
    const { ticket_id: ticketId, user_id: userId, name, visibility } = message;
    if (typeof ticketId !== "string" || typeof userId !== "string") return;
    if (visibility !== "public" && visibility !== "internal") return;
    let typists = this.byTicket.get(ticketId);
    if (!typists) this.byTicket.set(ticketId, (typists = new Map()));
    typists.set(userId, {
      userId,
      name: typeof name === "string" && name.trim() ? name : "Someone",
      visibility,
      until: this.now() + TYPING_SHOWN_MS,
    });
    this.changed();
  }

  /** Their message arrived: they are not typing it any more. */
  stopped(ticketId: string, userId: string): void {
    if (this.byTicket.get(ticketId)?.delete(userId)) this.changed();
  }

  typists(ticketId: string): Typist[] {
    const now = this.now();
    return [...(this.byTicket.get(ticketId)?.values() ?? [])].filter((t) => t.until > now);
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Changes whenever what `typists` answers may have changed (for useSyncExternalStore). */
  snapshot(): number {
    return this.version;
  }

  clear(): void {
    this.byTicket.clear();
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.changed();
  }

  private changed(): void {
    this.version += 1;
    for (const listener of this.listeners) listener();
    this.schedulePrune();
  }

  /** Wake when the next indicator runs out, drop what ran out, and tell the screens. */
  private schedulePrune(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    let next = Infinity;
    for (const typists of this.byTicket.values()) for (const t of typists.values()) next = Math.min(next, t.until);
    if (next === Infinity) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      const now = this.now();
      for (const [ticketId, typists] of this.byTicket) {
        for (const [userId, t] of typists) if (t.until <= now) typists.delete(userId);
        if (!typists.size) this.byTicket.delete(ticketId);
      }
      this.changed();
    }, Math.max(0, next - this.now()) + 50);
  }
}

/** What a screen may show: a requester never hears of internal notes being written. */
export function visibleTypists(typists: Typist[], staff: boolean): Typist[] {
  return staff ? typists : typists.filter((t) => t.visibility === "public");
}

/** "Alex is typing…", "Alex is writing an internal note…", "Alex and Sam are typing…". */
export function typingText(typists: Typist[]): string {
  if (!typists.length) return "";
  if (typists.length === 1) {
    const [one] = typists as [Typist];
    return one.visibility === "internal" ? `${one.name} is writing an internal note…` : `${one.name} is typing…`;
  }
  const names = typists.map((t) => t.name);
  const list = names.length === 2 ? `${names[0]} and ${names[1]}` : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
  return `${list} are typing…`;
}
