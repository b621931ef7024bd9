import type { User } from "../api/types";
import { Spinner } from "../components/ui";
import { formatDateTime, formatRelative, isStatus, statusLabel } from "../lib/format";
import { ErrorAlert } from "../tickets/Composer";
import { useEvents } from "../tickets/queries";

/** How a ticket came in, when not through the web app ("created" event's channel). */
const CREATED_VIA: Record<string, string> = { assistant: "created by the assistant", email: "created by e-mail" };

/** An event in words; statuses by their one name (lib/format.ts). */
export function describe(type: string, payload: Record<string, unknown>): string {
  if (type === "created" && typeof payload.channel === "string" && payload.channel in CREATED_VIA) return CREATED_VIA[payload.channel]!;
  const words = type.replace(/^ticket\./, "").replaceAll("_", " ").replaceAll(".", " ");
  const name = (v: unknown) => (isStatus(v) ? statusLabel(v, true) : String(v));
  if (typeof payload.from === "string" && typeof payload.to === "string") return `${words}: ${name(payload.from)} → ${name(payload.to)}`;
  return words;
}

export function Timeline({ ticketId, users }: { ticketId: string; users?: Map<string, User> | undefined }) {
  const events = useEvents(ticketId);
  if (events.isPending) return <Spinner label="Loading the timeline" />;
  if (events.isError) return <ErrorAlert error={events.error} />;
  if (!events.data.length) return <p className="text-fg-muted">Nothing has happened yet.</p>;
  return (
    <ol className="space-y-2 border-l-2 border-border pl-4" aria-label="Timeline">
      {events.data.map((e) => (
        <li key={e.id}>
          <span className="font-medium">{describe(e.type, e.payload)}</span>{" "}
          <span className="text-fg-muted">
            {e.type === "created" && e.payload.channel === "assistant" ? "for" : "by"}{" "}
            {e.actor_id ? (users?.get(e.actor_id)?.name ?? "someone") : "the system"} ·{" "}
            <time dateTime={e.created_at} title={formatDateTime(e.created_at)}>
              {formatRelative(e.created_at)}
            </time>
            {e.visibility === "internal" ? " · internal" : ""}
          </span>
        </li>
      ))}
    </ol>
  );
}
