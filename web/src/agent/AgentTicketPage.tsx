import * as Tabs from "@radix-ui/react-tabs";
import { Avatar } from "../components/Avatar";
import { CsatCard } from "../csat/CsatCard";
import { useState } from "react";
import { Link } from "react-router";
import { ApiError } from "../api/problem";
import type { Ticket } from "../api/types";
import { useMe } from "../auth/AuthProvider";
import { PriorityBadge, StatusBadge } from "../components/TicketBadges";
import { Alert, Button, Spinner } from "../components/ui";
import { formatDateTime } from "../lib/format";
import { FilesCard } from "../tickets/Attachments";
import { ErrorAlert } from "../tickets/Composer";
import { TicketConversation } from "../tickets/Conversation";
import { DescriptionCard } from "../tickets/CustomFieldValues";
import { useAssign } from "../tickets/mutations";
import { useTicket, useTicketTypes, useUsers } from "../tickets/queries";
import { useLiveTicket } from "../live/LiveProvider";
import { PresenceHint, useEditingFocus } from "../live/PresenceHint";
import { Incidents } from "./Incidents";
import { Links } from "./Links";
import { MacroPicker } from "../macros/MacroPicker";
import { MergeButton } from "./Merge";
import { MergedNotice } from "./MergedNotice";
import { ReceivedByMail } from "../mail/ReceivedByMail";
import { SuggestedArticles } from "../kb/SuggestedArticles";
import { People } from "./People";
import { PropertiesPanel } from "./PropertiesPanel";
import { SlaBadges } from "./SlaBadges";
import { Timeline } from "./Timeline";

const tabClass =
  "-mb-px border-b-2 border-transparent px-3 py-2 font-medium text-fg-muted data-[state=active]:border-accent data-[state=active]:text-accent-text";

function TypeBadge({ type }: { type: string }) {
  const types = useTicketTypes();
  const name = types.data?.find((t) => t.key === type)?.name ?? type;
  return (
    <span className="rounded border border-border px-1.5 text-sm" data-testid="ticket-type">
      {name}
    </span>
  );
}

function TakeButton({ ticket }: { ticket: Ticket }) {
  const me = useMe();
  const assign = useAssign(ticket);
  if (ticket.assignee_id === me.user.id) return null;
  return (
    <Button variant="primary" busy={assign.isPending} onClick={() => assign.mutate({ assignee_id: me.user.id, team_id: ticket.team_id })}>
      {ticket.assignee_id ? "Take over" : "Take it"}
    </Button>
  );
}

export default function AgentTicketPage({ ticketId }: { ticketId: string }) {
  const ticket = useTicket(ticketId);
  const users = useUsers();
  useLiveTicket(ticketId);
  const [editing, focusHandlers] = useEditingFocus();
  const [conflict, setConflict] = useState(false);

  if (ticket.isPending) return <Spinner label="Loading the ticket" />;
  if (ticket.isError) {
    return ticket.error instanceof ApiError && ticket.error.status === 404 ? (
      <Alert tone="warning" title="Ticket not found">
        It does not exist, or you may not see it. <Link className="underline" to="/queues/mine">Back to the queues</Link>
      </Alert>
    ) : (
      <ErrorAlert error={ticket.error} />
    );
  }
  const t = ticket.data;
  const requester = users.data?.get(t.requester_id);
  const assignee = t.assignee_id ? users.data?.get(t.assignee_id) : undefined;
  return (
    <div onFocusCapture={focusHandlers.onFocus} onBlurCapture={focusHandlers.onBlur}>
      <p className="mb-2">
        <Link to="/queues/mine" className="text-accent-text underline">
          ← Queues
        </Link>
      </p>
      <PresenceHint ticketId={t.id} editing={editing} />
      <div className="mb-4 flex flex-wrap items-start justify-between gap-3">
        <div>
          <h1 className="text-xl font-semibold">{t.title}</h1>
          <div className="mt-1 flex flex-wrap items-center gap-2 text-fg-muted">
            <span className="font-mono">{t.number}</span>
            <StatusBadge status={t.status} staff />
            <PriorityBadge priority={t.priority} />
            <TypeBadge type={t.type ?? "incident"} />
            <SlaBadges ticketId={t.id} />
          </div>
          <p className="mt-1 flex flex-wrap items-center gap-1 text-fg-muted">
            From {requester ? <Avatar name={requester.name} url={requester.avatar_url} /> : null}
            {requester ? `${requester.name} <${requester.email}>` : "the requester"} · opened {formatDateTime(t.created_at)}
            {assignee ? (
              <span className="inline-flex items-center gap-1" data-testid="assignee-line">
                {" "}· assigned to <Avatar name={assignee.name} url={assignee.avatar_url} /> {assignee.name}
              </span>
            ) : null}
          </p>
        </div>
        <div className="flex flex-wrap gap-2">
          <TakeButton ticket={t} />
          <MacroPicker ticket={t} />
          <MergeButton ticket={t} />
        </div>
      </div>
      <MergedNotice ticket={t} />
      {conflict ? (
        <div className="mb-4">
          <Alert
            tone="warning"
            title="This ticket was changed by someone else"
            action={
              <Button size="sm" onClick={() => setConflict(false)}>
                Dismiss
              </Button>
            }
          >
            We reloaded it, so you now see their changes. Yours were not saved: check the properties and save again.
          </Alert>
        </div>
      ) : null}
      <div className="grid gap-6 lg:grid-cols-[1fr_20rem]">
        <div className="min-w-0 space-y-4">
          <DescriptionCard ticket={t} title="Description" headingId="description-heading" />
          <Tabs.Root defaultValue="conversation">
            <Tabs.List aria-label="Ticket sections" className="mb-3 flex gap-1 border-b border-border">
              <Tabs.Trigger value="conversation" className={tabClass}>
                Conversation
              </Tabs.Trigger>
              <Tabs.Trigger value="timeline" className={tabClass}>
                Timeline
              </Tabs.Trigger>
            </Tabs.List>
            <Tabs.Content value="conversation" className="space-y-4">
              <TicketConversation ticket={t} staff users={users.data} />
            </Tabs.Content>
            <Tabs.Content value="timeline">
              <Timeline ticketId={t.id} users={users.data} />
            </Tabs.Content>
          </Tabs.Root>
        </div>
        <div className="space-y-4">
          <PropertiesPanel key={t.id} ticket={t} users={users.data} onConflict={() => setConflict(true)} />
          <SuggestedArticles ticketId={t.id} />
          <People ticket={t} users={users.data} />
          {t.type === "problem" ? <Incidents ticket={t} /> : null}
          <Links ticket={t} />
          <CsatCard ticketId={t.id} staff finished={t.status === "resolved" || t.status === "closed"} scheduledFor={t.csat_survey_scheduled_for ?? null} />
          <FilesCard ticketId={t.id} />
          <ReceivedByMail ticketId={t.id} channel={t.channel ?? "web"} />
        </div>
      </div>
    </div>
  );
}
