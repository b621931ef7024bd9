import { useState, type FocusEvent } from "react";
import { usePresence } from "./LiveProvider";
import { presenceText } from "./presence";

/** "Sam is also viewing / editing this ticket": a polite live region for staff, empty when
 * nobody else has the ticket open. */
export function PresenceHint({ ticketId, editing }: { ticketId: string; editing: boolean }) {
  const text = presenceText(usePresence(ticketId, editing, true));
  return (
    <p role="status" aria-live="polite" data-testid="presence-hint" className={text ? "mb-3 rounded-md border border-border bg-surface-muted px-3 py-2" : "sr-only"}>
      {text}
    </p>
  );
}

/** Whether a form field inside is focused (the person is editing something): for presence. */
export function useEditingFocus(): [boolean, { onFocus: (e: FocusEvent) => void; onBlur: (e: FocusEvent) => void }] {
  const [editing, setEditing] = useState(false);
  const field = (el: EventTarget | null) => el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement || (el instanceof HTMLInputElement && el.type !== "checkbox" && el.type !== "radio" && el.type !== "search");
  return [
    editing,
    {
      onFocus: (e) => setEditing(field(e.target)),
      onBlur: (e) => {
        if (!field(e.relatedTarget)) setEditing(false);
      },
    },
  ];
}
