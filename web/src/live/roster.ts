/**
 * Per-ticket rosters of people that expire (who is typing, who has the ticket open): the
 * store both live indicators share. An entry lasts until its `until`; a timer wakes at the
 * next expiry, drops what ran out and tells the screens. `snapshot()` changes whenever what
 * `entries` answers may have changed (for useSyncExternalStore).
 */
import { t } from "../i18n";

export interface Expiring {
  userId: string;
  until: number;
}

export class ExpiringRoster<T extends Expiring> {
  private readonly byTicket = new Map<string, Map<string, T>>();
  private readonly listeners = new Set<() => void>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private version = 0;

  constructor(protected readonly now: () => number = Date.now) {}

  /** The ticket's entries that have not run out. */
  entries(ticketId: string): T[] {
    const now = this.now();
    return [...(this.byTicket.get(ticketId)?.values() ?? [])].filter((e) => e.until > now);
  }

  /** Add or refresh one person's entry. */
  put(ticketId: string, entry: T): void {
    let roster = this.byTicket.get(ticketId);
    if (!roster) this.byTicket.set(ticketId, (roster = new Map()));
    roster.set(entry.userId, entry);
    this.changed();
  }

  /** The ticket's whole roster, as the server says it is now. */
  replace(ticketId: string, entries: T[]): void {
    this.byTicket.set(ticketId, new Map(entries.map((e) => [e.userId, e])));
    this.changed();
  }

  remove(ticketId: string, userId: string): void {
    if (this.byTicket.get(ticketId)?.delete(userId)) this.changed();
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

  private changed(): void {
    this.version += 1;
    for (const listener of this.listeners) listener();
    this.schedulePrune();
  }

  private schedulePrune(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    let next = Infinity;
    for (const roster of this.byTicket.values()) for (const e of roster.values()) next = Math.min(next, e.until);
    if (next === Infinity) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      const now = this.now();
      for (const [ticketId, roster] of this.byTicket) {
        for (const [userId, e] of roster) if (e.until <= now) roster.delete(userId);
        if (!roster.size) this.byTicket.delete(ticketId);
      }
      this.changed();
    }, Math.max(0, next - this.now()) + 50);
  }
}

/** A display name from a frame, or "Someone". */
export function nameOf(name: unknown): string {
  return typeof name === "string" && name.trim() ? name : t("live.someone");
}

/** "Alex", "Alex and Sam", "Alex, Sam and Kim". */
export function joinNames(names: string[]): string {
  if (names.length <= 1) return names[0] ?? "";
  return t("live.names.two", { first: names.slice(0, -1).join(", "), last: names.at(-1) ?? "" });
}
