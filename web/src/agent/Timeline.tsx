import type { User } from "../api/types";
import { Spinner } from "../components/ui";
import { formatDateTime, formatRelative, isStatus, statusLabel } from "../lib/format";
import { ErrorAlert } from "../tickets/Composer";
import { useEvents } from "../tickets/queries";
import { t, type MessageKey } from "../i18n";

/** How a ticket came in, when not through the web app ("created" event's channel). */
const CREATED_VIA: Record<string, MessageKey> = { assistant: "agent.timeline.byAssistant", email: "agent.timeline.byEmail" };

/** The timeline's event types in words; a type not listed reads as its own name. */
const EVENT_WORDS: Record<string, MessageKey> = {
  created: "agent.timeline.event.created",
  status_changed: "agent.timeline.event.status_changed",
  reopened: "agent.timeline.event.reopened",
  assigned: "agent.timeline.event.assigned",
  priority_changed: "agent.timeline.event.priority_changed",
  impact_changed: "agent.timeline.event.impact_changed",
  urgency_changed: "agent.timeline.event.urgency_changed",
  category_changed: "agent.timeline.event.category_changed",
  type_changed: "agent.timeline.event.type_changed",
  title_changed: "agent.timeline.event.title_changed",
  description_changed: "agent.timeline.event.description_changed",
  tags_changed: "agent.timeline.event.tags_changed",
  locked: "agent.timeline.event.locked",
  comment_added: "agent.timeline.event.comment_added",
  comment_edited: "agent.timeline.event.comment_edited",
  comment_deleted: "agent.timeline.event.comment_deleted",
  participant_added: "agent.timeline.event.participant_added",
  participant_removed: "agent.timeline.event.participant_removed",
  invitation_created: "agent.timeline.event.invitation_created",
  attachment_added: "agent.timeline.event.attachment_added",
  attachment_removed: "agent.timeline.event.attachment_removed",
  linked: "agent.timeline.event.linked",
  unlinked: "agent.timeline.event.unlinked",
  merged: "agent.timeline.event.merged",
  sla_warning: "agent.timeline.event.sla_warning",
  sla_breached: "agent.timeline.event.sla_breached",
  escalated: "agent.timeline.event.escalated",
};

/** An event in words; statuses by their one name (lib/format.ts). */
export function describe(type: string, payload: Record<string, unknown>): string {
  if (type === "created" && typeof payload.channel === "string" && payload.channel in CREATED_VIA) return t(CREATED_VIA[payload.channel]!);
  const bare = type.replace(/^ticket\./, "");
  const key = Object.hasOwn(EVENT_WORDS, bare) ? EVENT_WORDS[bare] : undefined;
  const words = key ? t(key) : bare.replaceAll("_", " ").replaceAll(".", " ");
  const name = (v: unknown) => (isStatus(v) ? statusLabel(v, true) : String(v));
  if (typeof payload.from === "string" && typeof payload.to === "string") return t("agent.timeline.change", { what: words, from: name(payload.from), to: name(payload.to) });
  return words;
}

export function Timeline({ ticketId, users }: { ticketId: string; users?: Map<string, User> | undefined }) {
  const events = useEvents(ticketId);
  if (events.isPending) return <Spinner label={t("agent.timeline.loading")} />;
  if (events.isError) return <ErrorAlert error={events.error} />;
  if (!events.data.length) return <p className="text-fg-muted">{t("agent.timeline.empty")}</p>;
  return (
    <ol className="space-y-2 border-l-2 border-border pl-4" aria-label={t("agent.timeline.label")}>
      {events.data.map((e) => (
        <li key={e.id}>
          <span className="font-medium">{describe(e.type, e.payload)}</span>{" "}
          <span className="text-fg-muted">
            {e.type === "created" && e.payload.channel === "assistant" ? t("agent.timeline.for") : t("agent.timeline.by")}{" "}
            {e.actor_id ? (users?.get(e.actor_id)?.name ?? t("agent.timeline.someone")) : t("agent.timeline.system")} ·{" "}
            <time dateTime={e.created_at} title={formatDateTime(e.created_at)}>
              {formatRelative(e.created_at)}
            </time>
            {e.visibility === "internal" ? t("agent.timeline.internal") : ""}
          </span>
        </li>
      ))}
    </ol>
  );
}
