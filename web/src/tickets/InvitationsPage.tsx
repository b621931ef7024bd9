import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { api, idempotencyKey, ok } from "../api/client";
import { describeError } from "../api/problem";
import type { components } from "../api/schema";
import { Alert, Badge, Button, EmptyState, PageHeader, Spinner } from "../components/ui";
import { t, type MessageKey } from "../i18n";
import { formatRelative } from "../lib/format";

type Invitation = components["schemas"]["TicketInvitationPublic"];
type Action = "accept" | "decline";

const KEY = ["ticket-invitations"] as const;
const TONE = { pending: "info", accepted: "success", declined: "neutral", cancelled: "neutral" } as const;

function InvitationRow({ invitation }: { invitation: Invitation }) {
  const client = useQueryClient();
  const [answered, setAnswered] = useState<Action | null>(null);
  const respond = useMutation({
    mutationFn: (action: Action) =>
      ok(
        api.POST("/v1/tickets/{ticket_id}/invitations/{invitation_id}/{action}", {
          params: { path: { ticket_id: invitation.ticket_id, invitation_id: invitation.id, action }, header: { "Idempotency-Key": idempotencyKey() } },
        }),
      ),
    onSuccess: (next, action) => {
      setAnswered(action);
      client.setQueryData<Invitation[]>(KEY, (list) => list?.map((i) => (i.id === next.id ? next : i)));
      void client.invalidateQueries({ queryKey: ["tickets"] });
    },
  });
  const rights = [invitation.can_comment ? t("invitations.rights.comment") : null, invitation.can_edit ? t("invitations.rights.edit") : null].filter(Boolean).join(", ");
  return (
    <li className="flex flex-wrap items-center gap-x-4 gap-y-2 px-4 py-3">
      <div className="min-w-0 flex-1">
        <p className="font-medium text-fg">
          <Link to={`/tickets/${invitation.ticket_id}`} className="text-accent-text underline">
            {t("invitations.open")}
          </Link>
        </p>
        <p className="text-fg-muted">
          {t("invitations.invited", { when: formatRelative(invitation.created_at) })}
          {rights ? ` · ${rights}` : ""}
        </p>
      </div>
      <Badge tone={TONE[invitation.status]}>{t(`invitations.status.${invitation.status}` as MessageKey)}</Badge>
      {invitation.status === "pending" ? (
        <div className="flex gap-2">
          <Button variant="primary" onClick={() => respond.mutate("accept")} disabled={respond.isPending}>
            {t("invitations.accept")}
          </Button>
          <Button variant="secondary" onClick={() => respond.mutate("decline")} disabled={respond.isPending}>
            {t("invitations.decline")}
          </Button>
        </div>
      ) : null}
      {answered ? (
        <p role="status" className="w-full text-fg-muted">
          {t(answered === "accept" ? "invitations.accepted" : "invitations.declined")}
        </p>
      ) : null}
      {respond.isError ? (
        <div className="w-full">
          <Alert>{describeError(respond.error)}</Alert>
        </div>
      ) : null}
    </li>
  );
}

/** /ticket-invitations, where the invitation e-mail links: accept or decline each. */
export default function InvitationsPage() {
  const list = useQuery({ queryKey: KEY, queryFn: ({ signal }) => ok(api.GET("/v1/ticket-invitations", { signal })) });
  const invitations = list.data ?? [];
  return (
    <>
      <PageHeader title={t("invitations.title")}>{t("invitations.intro")}</PageHeader>
      {list.isPending ? <Spinner label={t("invitations.loading")} /> : null}
      {list.isError ? <Alert>{describeError(list.error)}</Alert> : null}
      {list.isSuccess && !invitations.length ? <EmptyState title={t("invitations.none")}>{t("invitations.noneHelp")}</EmptyState> : null}
      {invitations.length ? (
        <ul aria-label={t("invitations.list")} className="divide-y divide-border rounded-lg border border-border bg-surface">
          {invitations.map((i) => (
            <InvitationRow key={i.id} invitation={i} />
          ))}
        </ul>
      ) : null}
    </>
  );
}
