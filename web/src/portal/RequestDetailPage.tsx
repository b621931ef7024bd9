import { useState } from "react";
import { Link, useLocation } from "react-router";
import { ApiError, describeError } from "../api/problem";
import type { Ticket, TicketStatus } from "../api/types";
import { useMe } from "../auth/AuthProvider";
import { StatusBadge } from "../components/TicketBadges";
import { Alert, Button, PageHeader, Spinner } from "../components/ui";
import { formatDateTime } from "../lib/format";
import { allowedTransitions } from "../lib/transitions";
import { FilesCard } from "../tickets/Attachments";
import { ErrorAlert } from "../tickets/Composer";
import { TicketConversation } from "../tickets/Conversation";
import { Person } from "../components/Avatar";
import { DescriptionCard } from "../tickets/CustomFieldValues";
import { useTransition } from "../tickets/mutations";
import { useParticipants, useTicket } from "../tickets/queries";
import { useLiveTicket } from "../live/LiveProvider";
import { MergedNotice } from "../agent/MergedNotice";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { TicketApprovalCard } from "../approvals/TicketApprovalCard";
import { CsatCard } from "../csat/CsatCard";
import { t, type MessageKey } from "../i18n";

const ACTION_LABELS: Partial<Record<TicketStatus, MessageKey>> = {
  closed: "portal.request.close",
  open: "portal.request.reopen",
  cancelled: "portal.request.cancel",
};

/** The words on the button that moves the request to `to`. */
function actionLabel(to: TicketStatus): string {
  const key = ACTION_LABELS[to];
  return key ? t(key) : to;
}

/** The requester's actions. Cancelling asks first, in a dialog, and can be undone: a
 * cancelled request can be reopened (within the tenant's reopen window). */
function Actions({ ticket, isRequester }: { ticket: Ticket; isRequester: boolean }) {
  const transition = useTransition(ticket);
  const [message, setMessage] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [justCancelled, setJustCancelled] = useState(false);
  // What the server says this person may do, limited to the actions this page offers.
  const targets = (ticket.allowed_transitions ?? allowedTransitions(ticket.status, { staff: false, isRequester })).filter(
    (to) => to in ACTION_LABELS,
  );
  const move = (to: TicketStatus, after?: () => void) => {
    setMessage(null);
    transition.mutate(to, {
      onSuccess: after,
      onError: (e) =>
        setMessage(
          e instanceof ApiError && e.status === 409 ? t("portal.request.notPossible") : describeError(e),
        ),
    });
  };
  const canUndo = justCancelled && ticket.status === "cancelled" && targets.includes("open");
  if (!targets.length && !message) return null;
  return (
    <div className="flex flex-wrap items-center gap-2">
      {targets.map((to) =>
        canUndo && to === "open" ? null : (
          <Button
            key={to}
            variant={to === "cancelled" ? "danger" : "secondary"}
            busy={transition.isPending && transition.variables === to}
            onClick={() => (to === "cancelled" ? setConfirming(true) : move(to, () => setJustCancelled(false)))}
          >
            {ticket.status === "cancelled" && to === "open" ? t("portal.request.reopenRequest") : actionLabel(to)}
          </Button>
        ),
      )}
      {canUndo ? (
        <Alert
          tone="success"
          action={
            <Button size="sm" busy={transition.isPending} onClick={() => move("open", () => setJustCancelled(false))}>
              {t("portal.request.undo")}
            </Button>
          }
        >
          {t("portal.request.cancelled")}
        </Alert>
      ) : null}
      {message ? <Alert tone="warning">{message}</Alert> : null}
      <ConfirmDialog
        open={confirming}
        title={t("portal.request.cancelQuestion")}
        confirmLabel={t("portal.request.cancel")}
        cancelLabel={t("portal.request.keep")}
        onClose={() => setConfirming(false)}
        onConfirm={() => {
          setConfirming(false);
          move("cancelled", () => setJustCancelled(true));
        }}
      >
        {t("portal.request.cancelHelp")}
      </ConfirmDialog>
    </div>
  );
}

export default function RequestDetailPage({ ticketId }: { ticketId: string }) {
  const me = useMe();
  const location = useLocation();
  const ticket = useTicket(ticketId);
  const participants = useParticipants(ticketId);
  useLiveTicket(ticketId);
  const state = (location.state ?? {}) as { created?: boolean; failedUploads?: string[] };

  if (ticket.isPending) return <Spinner label={t("portal.request.loading")} />;
  if (ticket.isError) {
    return ticket.error instanceof ApiError && ticket.error.status === 404 ? (
      <Alert tone="warning" title={t("portal.request.notFound")}>
        {t("portal.request.notFoundHelp")}
        <Link className="underline" to="/requests">
          {t("portal.request.backToList")}
        </Link>
      </Alert>
    ) : (
      <ErrorAlert error={ticket.error} />
    );
  }
  const request = ticket.data;
  const isRequester = request.requester_id === me.user.id;
  const assignee = participants.data?.find((p) => p.role === "assignee" && p.name);
  return (
    <>
      <p className="mb-2">
        <Link to="/requests" className="text-accent-text underline">
          {t("portal.request.back")}
        </Link>
      </p>
      <PageHeader title={request.title} actions={<Actions ticket={request} isRequester={isRequester} />}>
        <span className="inline-flex flex-wrap items-center gap-2">
          <span className="font-mono">{request.number}</span>
          <StatusBadge status={request.status} />
          <span>{t("portal.request.opened", { when: formatDateTime(request.created_at) })}</span>
          {assignee ? (
            <span className="inline-flex items-center gap-1.5" data-testid="handled-by">
              {t("portal.request.handledBy")}
              <Person name={assignee.name} url={assignee.avatar_url} />
            </span>
          ) : null}
        </span>
      </PageHeader>
      <MergedNotice ticket={request} portal />
      {state.created ? (
        <div className="mb-4">
          <Alert tone="success" title={t("portal.request.submitted")}>
            {t("portal.request.submittedHelp")}
            {state.failedUploads?.length ? t("portal.request.failedUploads", { files: state.failedUploads.join(", ") }) : ""}
          </Alert>
        </div>
      ) : null}
      <div className="grid gap-6 lg:grid-cols-[1fr_20rem]">
        <div className="space-y-6">
          <DescriptionCard ticket={request} title={t("portal.request.details")} headingId="details-heading" />
          <section aria-labelledby="conversation-heading" className="space-y-3">
            <h2 id="conversation-heading" className="text-base font-semibold">
              {t("portal.request.conversation")}
            </h2>
            <TicketConversation ticket={request} staff={false} canReply={request.status !== "cancelled"} />
          </section>
        </div>
        <aside className="space-y-6">
          <TicketApprovalCard ticketId={request.id} status={request.status} />
          <CsatCard ticketId={request.id} staff={false} finished={request.status === "resolved" || request.status === "closed"} />
          <FilesCard ticketId={request.id} />
        </aside>
      </div>
    </>
  );
}
