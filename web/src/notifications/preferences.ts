import type { components } from "../api/schema";
import type { MessageKey } from "../i18n";

export type Preference = components["schemas"]["PreferencePublic"];
export type PreferenceItem = components["schemas"]["PreferenceItem"];
export type EventType = PreferenceItem["event_type"];
export type Channel = PreferenceItem["channel"];

/** What each kind of notification is called (a catalogue key), and whether only staff
 * receive it. */
export const EVENT_LABELS: Record<EventType, { label: MessageKey; staffOnly: boolean }> = {
  "ticket.received": { label: "notif.event.ticket.received", staffOnly: false },
  "ticket.created": { label: "notif.event.ticket.created", staffOnly: false },
  "ticket.assigned": { label: "notif.event.ticket.assigned", staffOnly: false },
  "ticket.status_changed": { label: "notif.event.ticket.status_changed", staffOnly: false },
  "comment.public": { label: "notif.event.comment.public", staffOnly: false },
  "comment.internal": { label: "notif.event.comment.internal", staffOnly: true },
  "ticket.invitation_created": { label: "notif.event.ticket.invitation_created", staffOnly: false },
  "sla.warning": { label: "notif.event.sla.warning", staffOnly: true },
  "sla.breached": { label: "notif.event.sla.breached", staffOnly: true },
  "sla.escalation": { label: "notif.event.sla.escalation", staffOnly: true },
  "mail.held": { label: "notif.event.mail.held", staffOnly: true },
  "automation.notify": { label: "notif.event.automation.notify", staffOnly: false },
  "approval.requested": { label: "notif.event.approval.requested", staffOnly: false },
  "approval.escalated": { label: "notif.event.approval.escalated", staffOnly: false },
  "task.created": { label: "notif.event.task.created", staffOnly: true },
  "task.updated": { label: "notif.event.task.updated", staffOnly: true },
  "task.moved": { label: "notif.event.task.moved", staffOnly: true },
  "task.commented": { label: "notif.event.task.commented", staffOnly: true },
};

export const CHANNELS: { id: Channel; label: MessageKey }[] = [
  { id: "in_app", label: "notif.inApp" },
  { id: "email", label: "notif.email" },
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

/** The e-mail choices a person made themselves: "use the organisation's defaults" forgets them. */
export function customisedEmail(saved: readonly Preference[]): { event_type: EventType; channel: Channel }[] {
  return saved.filter((p) => p.customised && p.channel === "email").map((p) => ({ event_type: p.event_type as EventType, channel: "email" as Channel }));
}
