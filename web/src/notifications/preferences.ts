import type { components } from "../api/schema";

export type Preference = components["schemas"]["PreferencePublic"];
export type PreferenceItem = components["schemas"]["PreferenceItem"];
export type EventType = PreferenceItem["event_type"];
export type Channel = PreferenceItem["channel"];

/** What each kind of notification is called, and whether only staff receive it. */
export const EVENT_LABELS: Record<EventType, { label: string; staffOnly: boolean }> = {
  "ticket.received": { label: "Confirmation when a request of mine is opened", staffOnly: false },
  "ticket.created": { label: "New tickets", staffOnly: false },
  "ticket.assigned": { label: "Assignments", staffOnly: false },
  "ticket.status_changed": { label: "Status changes", staffOnly: false },
  "comment.public": { label: "Replies", staffOnly: false },
  "comment.internal": { label: "Internal notes", staffOnly: true },
  "ticket.invitation_created": { label: "Invitations to a ticket", staffOnly: false },
  "sla.warning": { label: "SLA warnings", staffOnly: true },
  "sla.breached": { label: "SLA breaches", staffOnly: true },
  "sla.escalation": { label: "SLA escalations", staffOnly: true },
  "mail.held": { label: "Mail held for an agent", staffOnly: true },
  "automation.notify": { label: "Messages from automation rules", staffOnly: false },
};

export const CHANNELS: { id: Channel; label: string }[] = [
  { id: "in_app", label: "In the app" },
  { id: "email", label: "By e-mail" },
];

export const prefKey = (eventType: string, channel: string) => `${eventType}/${channel}`;

/** The rows a person sees: every known kind, the staff-only ones for staff. */
export function visibleEvents(staff: boolean): EventType[] {
  return (Object.keys(EVENT_LABELS) as EventType[]).filter((e) => staff || !EVENT_LABELS[e].staffOnly);
}

/** The choices that differ from what the server holds: exactly what a save sends. */
export function changedItems(saved: readonly Preference[], form: ReadonlyMap<string, boolean>): PreferenceItem[] {
  const before = new Map(saved.map((p) => [prefKey(p.event_type, p.channel), p.enabled]));
  const changed: PreferenceItem[] = [];
  for (const [key, enabled] of form) {
    if (before.get(key) === enabled) continue;
    const [eventType, channel] = key.split("/") as [EventType, Channel];
    changed.push({ event_type: eventType, channel, enabled });
  }
  return changed;
}
