import type { FormEvent, ReactNode } from "react";
import { useSendTyping, useTypists } from "./LiveProvider";
import type { Visibility } from "./socket";
import { typingText } from "./typing";

/** "Alex is typing…" under a conversation; a polite live region, empty when nobody is. */
export function TypingIndicator({ ticketId, staff }: { ticketId: string; staff: boolean }) {
  const text = typingText(useTypists(ticketId, staff));
  return (
    <p role="status" aria-live="polite" data-testid="typing-indicator" className="min-h-5 italic text-fg-muted">
      {text}
    </p>
  );
}

/**
 * Sends `typing` while a person writes in the composer inside it. Which composer is told
 * by its form (the composer marks the reply form `reply-composer`); for staff anything that
 * is not positively the reply counts as an internal note, so a requester is never told
 * about a note being written, whatever the markup becomes. Requesters only ever reply.
 */
export function TypingReporter({ ticketId, staff, children }: { ticketId: string; staff: boolean; children: ReactNode }) {
  const send = useSendTyping(ticketId);
  function onInput(event: FormEvent<HTMLDivElement>) {
    const visibility = typingVisibility(event.target, staff);
    if (visibility) send(visibility);
  }
  return <div onInput={onInput}>{children}</div>;
}

/** What typing into `target` tells others: nothing for an empty box or a field that is not
 * a message; "public" only in the reply composer (or for a requester, who only replies). */
export function typingVisibility(target: EventTarget | null, staff: boolean): Visibility | null {
  if (!(target instanceof HTMLTextAreaElement) || !target.value.trim()) return null;
  const reply = target.closest("form")?.dataset.testid === "reply-composer";
  return !staff || reply ? "public" : "internal";
}
