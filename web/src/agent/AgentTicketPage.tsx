import * as Tabs from "@radix-ui/react-tabs";
import { Avatar } from "../components/Avatar";
import { TicketApprovalCard } from "../approvals/TicketApprovalCard";
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
import { TicketChanges } from "../changes/TicketChanges";
import { TicketCis } from "../cmdb/TicketCis";
import { TicketTasks } from "../projects/TicketTasks";
import { MacroPicker } from "../macros/MacroPicker";
import { MergeButton } from "./Merge";
import { MergedNotice } from "./MergedNotice";
import { ReceivedByMail } from "../mail/ReceivedByMail";
import { SuggestedArticles } from "../kb/SuggestedArticles";
import { People } from "./People";
import { PropertiesPanel } from "./PropertiesPanel";
import { SlaBadges } from "./SlaBadges";
import { Timeline } from "./Timeline";
import { t } from "../i18n";

const tabClass =
  "-mb-px border-b-2 border-transparent px-3 py-2 font-medium text-fg-muted data-[state=active]:border-accent data-[state=active]:text-accent-text";

function TypeBadge({ type }: { type: string }) {
  const types = useTicketTypes();
  const name = types.data?.find((known) => known.key === type)?.name ?? type;
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
      {ticket.assignee_id ? t("agent.ticket.takeOver") : t("agent.ticket.take")}
    </Button>
  );
}

export default function AgentTicketPage({ ticketId }: { ticketId: string }) {
  const ticket = useTicket(ticketId);
  const users = useUsers();
  useLiveTicket(ticketId);
  const [editing, focusHandlers] = useEditingFocus();
  const [conflict, setConflict] = useState(false);

  if (ticket.isPending) return <Spinner label={t("agent.ticket.loading")} />;
  if (ticket.isError) {
    return ticket.error instanceof ApiError && ticket.error.status === 404 ? (
      <Alert tone="warning" title={t("agent.ticket.notFound")}>
        {t("agent.ticket.notFoundHelp")}
        <Link className="underline" to="/queues/mine">
          {t("agent.ticket.backToQueues")}
        </Link>
      </Alert>
    ) : (
      <ErrorAlert error={ticket.error} />
    );
  }
  const current = ticket.data;
  const requester = users.data?.get(current.requester_id);
  const assignee = current.assignee_id ? users.data?.get(current.assignee_id) : undefined;
  return (
    <div onFocusCapture={focusHandlers.onFocus} onBlurCapture={focusHandlers.onBlur}>
      <p className="mb-2">
        <Link to="/queues/mine" className="text-accent-text underline">
          {t("agent.ticket.back")}
        </Link>
      </p>
      <PresenceHint ticketId={current.id} editing={editing} />
      <div className="mb-4 flex flex-wrap items-start justify-between gap-3">
        <div>
          <h1 className="text-xl font-semibold">{current.title}</h1>
          <div className="mt-1 flex flex-wrap items-center gap-2 text-fg-muted">
            <span className="font-mono">{current.number}</span>
            <StatusBadge status={current.status} staff />
            <PriorityBadge priority={current.priority} />
            <TypeBadge type={current.type ?? "incident"} />
            <SlaBadges ticketId={current.id} />
          </div>
          <p className="mt-1 flex flex-wrap items-center gap-1 text-fg-muted">
            {t("agent.ticket.from")}
            {requester ? <Avatar name={requester.name} url={requester.avatar_url} /> : null}
            {requester ? `${requester.name} <${requester.email}>` : t("agent.ticket.theRequester")}
            {t("agent.ticket.opened", { when: formatDateTime(current.created_at) })}
            {assignee ? (
              <span className="inline-flex items-center gap-1" data-testid="assignee-line">
                {t("agent.ticket.assignedTo")}
                <Avatar name={assignee.name} url={assignee.avatar_url} /> {assignee.name}
              </span>
            ) : null}
          </p>
        </div>
        <div className="flex flex-wrap gap-2">
          <TakeButton ticket={current} />
          <MacroPicker ticket={current} />
          <MergeButton ticket={current} />
        </div>
      </div>
      <MergedNotice ticket={current} />
      {conflict ? (
        <div className="mb-4">
          <Alert
            tone="warning"
            title={t("agent.ticket.conflict")}
            action={
              <Button size="sm" onClick={() => setConflict(false)}>
                {t("agent.ticket.dismiss")}
              </Button>
            }
          >
            {t("agent.ticket.conflictHelp")}
          </Alert>
        </div>
      ) : null}
      <div className="grid gap-6 lg:grid-cols-[1fr_20rem]">
        <div className="min-w-0 space-y-4">
          <DescriptionCard ticket={current} title={t("agent.ticket.description")} headingId="description-heading" />
          <Tabs.Root defaultValue="conversation">
            <Tabs.List aria-label={t("agent.ticket.sections")} className="mb-3 flex gap-1 border-b border-border">
              <Tabs.Trigger value="conversation" className={tabClass}>
                {t("agent.ticket.conversation")}
              </Tabs.Trigger>
              <Tabs.Trigger value="timeline" className={tabClass}>
                {t("agent.ticket.timeline")}
              </Tabs.Trigger>
            </Tabs.List>
            <Tabs.Content value="conversation" className="space-y-4">
              <TicketConversation ticket={current} staff users={users.data} />
            </Tabs.Content>
            <Tabs.Content value="timeline">
              <Timeline ticketId={current.id} users={users.data} />
            </Tabs.Content>
          </Tabs.Root>
        </div>
        <div className="space-y-4">
          <TicketApprovalCard ticketId={current.id} status={current.status} />
          <PropertiesPanel key={current.id} ticket={current} users={users.data} onConflict={() => setConflict(true)} />
          <SuggestedArticles ticketId={current.id} />
          <People ticket={current} users={users.data} />
          {current.type === "problem" ? <Incidents ticket={current} /> : null}
          <Links ticket={current} />
          <TicketCis ticketId={current.id} />
          <TicketChanges ticketId={current.id} />
          <TicketTasks ticketId={current.id} title={current.title} />
          <CsatCard ticketId={current.id} staff finished={current.status === "resolved" || current.status === "closed"} scheduledFor={current.csat_survey_scheduled_for ?? null} />
          <FilesCard ticketId={current.id} />
          <ReceivedByMail ticketId={current.id} channel={current.channel ?? "web"} />
        </div>
      </div>
    </div>
  );
}
