import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate } from "react-router";
import { api, ok } from "../api/client";
import { Badge, Button, Card, EmptyState, PageHeader, Spinner } from "../components/ui";
import { ErrorAlert } from "../tickets/Composer";
import { formatRelative } from "../lib/format";
import { mailKeys, useHeldMail, type InboundMail } from "./api";
import { OriginalView } from "./OriginalView";
import { t, type MessageKey } from "../i18n";

/* Agents › Held mail: messages the intake would not attach or open on its own (a reply
 * from someone outside the ticket, an unknown sender, too many at once …), to accept as
 * a reply on a ticket, open as a new ticket, or discard (docs/email.md). */

const REASONS: Record<string, MessageKey> = {
  not_participant: "mail.held.reason.not_participant",
  unknown_sender: "mail.held.reason.unknown_sender",
  rate_limited: "mail.held.reason.rate_limited",
  inactive_sender: "mail.held.reason.inactive_sender",
  unusable_sender: "mail.held.reason.unusable_sender",
  ticket_closed: "mail.held.reason.ticket_closed",
  refused: "mail.held.reason.refused",
};

/** Why a message is held, in words (the code itself for a reason this screen does not know). */
function reasonText(reason: string): string {
  const key = REASONS[reason];
  return key ? t(key) : reason;
}

function HeldItem({ mail }: { mail: InboundMail }) {
  const client = useQueryClient();
  const navigate = useNavigate();
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState<string | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const act = async (what: string, run: () => Promise<unknown>, after?: (result: unknown) => void) => {
    setBusy(what);
    setFailure(null);
    try {
      const result = await run();
      await client.invalidateQueries({ queryKey: mailKeys.held });
      after?.(result);
    } catch (error) {
      setFailure(error);
    } finally {
      setBusy(null);
    }
  };
  const path = { params: { path: { mail_id: mail.id } } };
  const headingId = `held-${mail.id}`;
  return (
    <Card as="article" aria-labelledby={headingId}>
      <div className="flex flex-wrap items-start justify-between gap-2">
        <div className="min-w-0">
          <h2 id={headingId} className="font-semibold break-words">
            {mail.subject || t("mail.noSubject")}
          </h2>
          <p className="text-fg-muted break-all">
            {mail.from_name ? `${mail.from_name} <${mail.from_address ?? ""}>` : mail.from_address} · {formatRelative(mail.received_at)}
          </p>
        </div>
        <Badge tone="warning">{reasonText(mail.reason)}</Badge>
      </div>
      {mail.ticket_id ? (
        <p className="mt-1">
          {t("mail.held.answers")}
          <Link className="text-accent-text underline" to={`/tickets/${mail.ticket_id}`}>
            {t("mail.held.answersLink")}
          </Link>
          {t("mail.held.answersEnd")}
        </p>
      ) : null}
      <div className="mt-3 flex flex-wrap gap-2">
        <Button size="sm" onClick={() => setOpen((v) => !v)} aria-expanded={open}>
          {open ? t("mail.held.hide") : t("mail.held.read")}
        </Button>
        {mail.ticket_id ? (
          <Button
            size="sm"
            variant="primary"
            busy={busy === "comment"}
            onClick={() =>
              act("comment", () => ok(api.POST("/v1/mail/held/{mail_id}/accept-comment", { ...path, body: { ticket_id: mail.ticket_id ?? "", version: mail.version } })))
            }
          >
            {t("mail.held.addReply")}
          </Button>
        ) : null}
        <Button
          size="sm"
          variant={mail.ticket_id ? "secondary" : "primary"}
          busy={busy === "ticket"}
          onClick={() =>
            act(
              "ticket",
              () => ok(api.POST("/v1/mail/held/{mail_id}/accept-ticket", { ...path, body: { version: mail.version } })),
              (ticket) => navigate(`/tickets/${(ticket as { id: string }).id}`),
            )
          }
        >
          {t("mail.held.openTicket")}
        </Button>
        <Button
          size="sm"
          busy={busy === "discard"}
          onClick={() => act("discard", () => ok(api.POST("/v1/mail/held/{mail_id}/discard", { ...path, body: { note: "", version: mail.version } })))}
        >
          {t("mail.held.discard")}
        </Button>
      </div>
      {failure ? (
        <div className="mt-3">
          <ErrorAlert error={failure} />
        </div>
      ) : null}
      {open ? (
        <div className="mt-3">
          <OriginalView mailId={mail.id} />
        </div>
      ) : null}
    </Card>
  );
}

export default function HeldMailPage() {
  const held = useHeldMail();
  const items = held.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <>
      <PageHeader title={t("mail.held.title")}>{t("mail.held.intro")}</PageHeader>
      {held.isPending ? <Spinner label={t("mail.held.loading")} /> : null}
      {held.isError ? <ErrorAlert error={held.error} /> : null}
      {held.data && !items.length ? <EmptyState title={t("mail.held.empty")}>{t("mail.held.emptyHelp")}</EmptyState> : null}
      <div className="space-y-4">
        {items.map((mail) => (
          <HeldItem key={mail.id} mail={mail} />
        ))}
      </div>
      {held.hasNextPage ? (
        <div className="mt-4">
          <Button onClick={() => held.fetchNextPage()} busy={held.isFetchingNextPage}>
            {t("mail.held.more")}
          </Button>
        </div>
      ) : null}
    </>
  );
}
