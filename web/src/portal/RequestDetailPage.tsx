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
import { DescriptionCard } from "../tickets/CustomFieldValues";
import { useTransition } from "../tickets/mutations";
import { useTicket } from "../tickets/queries";
import { useLiveTicket } from "../live/LiveProvider";
import { MergedNotice } from "../agent/MergedNotice";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { CsatCard } from "../csat/CsatCard";

const ACTION_LABELS: Partial<Record<TicketStatus, string>> = {
  closed: "Close request",
  open: "Reopen",
  cancelled: "Cancel request",
};

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
          e instanceof ApiError && e.status === 409 ? "That is not possible any more (the reopen window may have passed)." : describeError(e),
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
            {ticket.status === "cancelled" && to === "open" ? "Reopen request" : (ACTION_LABELS[to] ?? to)}
          </Button>
        ),
      )}
      {canUndo ? (
        <Alert
          tone="success"
          action={
            <Button size="sm" busy={transition.isPending} onClick={() => move("open", () => setJustCancelled(false))}>
              Undo
            </Button>
          }
        >
          Request cancelled.
        </Alert>
      ) : null}
      {message ? <Alert tone="warning">{message}</Alert> : null}
      <ConfirmDialog
        open={confirming}
        title="Cancel this request?"
        confirmLabel="Cancel request"
        cancelLabel="Keep the request"
        onClose={() => setConfirming(false)}
        onConfirm={() => {
          setConfirming(false);
          move("cancelled", () => setJustCancelled(true));
        }}
      >
        Support stops working on it and it leaves your open requests. You can reopen it for a while afterwards.
      </ConfirmDialog>
    </div>
  );
}

export default function RequestDetailPage({ ticketId }: { ticketId: string }) {
  const me = useMe();
  const location = useLocation();
  const ticket = useTicket(ticketId);
  useLiveTicket(ticketId);
  const state = (location.state ?? {}) as { created?: boolean; failedUploads?: string[] };

  if (ticket.isPending) return <Spinner label="Loading the request" />;
  if (ticket.isError) {
    return ticket.error instanceof ApiError && ticket.error.status === 404 ? (
      <Alert tone="warning" title="Request not found">
        It may have been removed, or it belongs to someone else. <Link className="underline" to="/requests">Back to my requests</Link>
      </Alert>
    ) : (
      <ErrorAlert error={ticket.error} />
    );
  }
  const t = ticket.data;
  const isRequester = t.requester_id === me.user.id;
  return (
    <>
      <p className="mb-2">
        <Link to="/requests" className="text-accent-text underline">
          ← My requests
        </Link>
      </p>
      <PageHeader title={t.title} actions={<Actions ticket={t} isRequester={isRequester} />}>
        <span className="inline-flex flex-wrap items-center gap-2">
          <span className="font-mono">{t.number}</span>
          <StatusBadge status={t.status} />
          <span>Opened {formatDateTime(t.created_at)}</span>
        </span>
      </PageHeader>
      <MergedNotice ticket={t} portal />
      {state.created ? (
        <div className="mb-4">
          <Alert tone="success" title="Request submitted">
            We have your request and will reply here.
            {state.failedUploads?.length ? ` These files could not be uploaded: ${state.failedUploads.join(", ")}.` : ""}
          </Alert>
        </div>
      ) : null}
      <div className="grid gap-6 lg:grid-cols-[1fr_20rem]">
        <div className="space-y-6">
          <DescriptionCard ticket={t} title="Details" headingId="details-heading" />
          <section aria-labelledby="conversation-heading" className="space-y-3">
            <h2 id="conversation-heading" className="text-base font-semibold">
              Conversation
            </h2>
            <TicketConversation ticket={t} staff={false} canReply={t.status !== "cancelled"} />
          </section>
        </div>
        <aside className="space-y-6">
          <CsatCard ticketId={t.id} staff={false} finished={t.status === "resolved" || t.status === "closed"} />
          <FilesCard ticketId={t.id} />
        </aside>
      </div>
    </>
  );
}
