import { useMutation, useQueries, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { Link as RouterLink } from "react-router";
import { api, idempotencyKey, ok } from "../api/client";
import { ApiError, describeError } from "../api/problem";
import type { Ticket } from "../api/types";
import { StatusBadge } from "../components/TicketBadges";
import { Alert, Button, Field, Input, Select, Spinner } from "../components/ui";
import { keys } from "../tickets/queries";
import { LINK_KINDS, LookupError, collabKeys, findTicket, linkLabel, otherEnd, useLinks, type Link, type LinkKind } from "./collab";
import { t } from "../i18n";

function useRefreshLinks(ticketId: string) {
  const client = useQueryClient();
  return (otherId?: string) => {
    for (const id of [ticketId, otherId]) {
      if (!id) continue;
      void client.invalidateQueries({ queryKey: collabKeys.links(id) });
      void client.invalidateQueries({ queryKey: keys.events(id) });
    }
  };
}

function LinkRow({ ticketId, link, other }: { ticketId: string; link: Link; other: Ticket | undefined }) {
  const refresh = useRefreshLinks(ticketId);
  const otherId = otherEnd(link, ticketId);
  const remove = useMutation({
    mutationFn: () => ok(api.DELETE("/v1/tickets/{ticket_id}/links/{link_id}", { params: { path: { ticket_id: ticketId, link_id: link.id } } })),
    onSettled: () => refresh(otherId),
  });
  const label = linkLabel(link, ticketId);
  const number = other?.number ?? t("agent.links.another");
  return (
    <li className="flex flex-wrap items-center justify-between gap-2 py-1.5" data-testid="ticket-link">
      <span className="min-w-0">
        <span className="text-fg-muted">{label} </span>
        <RouterLink to={`/tickets/${otherId}`} className="font-mono text-accent-text underline">
          {number}
        </RouterLink>
        {other ? (
          <>
            {" "}
            <span className="break-words">{other.title}</span> <StatusBadge status={other.status} staff />
          </>
        ) : null}
      </span>
      <Button size="sm" variant="ghost" busy={remove.isPending} onClick={() => remove.mutate()} aria-label={t("agent.links.removeOf", { number })}>
        {t("agent.links.remove")}
      </Button>
      {remove.isError ? <span className="w-full text-danger-text">{describeError(remove.error)}</span> : null}
    </li>
  );
}

function AddLink({ ticketId, example }: { ticketId: string; example: string }) {
  const refresh = useRefreshLinks(ticketId);
  const id = useId();
  const [kind, setKind] = useState<LinkKind>("relates_to");
  const [number, setNumber] = useState("");
  const [error, setError] = useState<string | undefined>();
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(undefined);
    setFailure(null);
    setBusy(true);
    try {
      const target = await findTicket(number);
      if (target.id === ticketId) throw new LookupError(t("agent.links.self"));
      await ok(
        api.POST("/v1/tickets/{ticket_id}/links", {
          params: { path: { ticket_id: ticketId }, header: { "Idempotency-Key": idempotencyKey() } },
          body: { target_id: target.id, kind },
        }),
      );
      setNumber("");
      refresh(target.id);
    } catch (e) {
      if (e instanceof LookupError) setError(e.message);
      else if (e instanceof ApiError && e.fieldErrors.target_id) setError(e.fieldErrors.target_id);
      else setFailure(describeError(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} noValidate className="space-y-3 border-t border-border pt-3" aria-labelledby={`${id}-heading`}>
      <h3 id={`${id}-heading`} className="font-semibold">
        {t("agent.links.add")}
      </h3>
      <Field label={t("agent.links.kind")}>
        {(p) => (
          <Select {...p} value={kind} onChange={(e) => setKind(e.target.value as LinkKind)}>
            {LINK_KINDS.map((k) => (
              <option key={k.value} value={k.value}>
                {t(k.label)}
              </option>
            ))}
          </Select>
        )}
      </Field>
      <Field label={t("agent.links.number")} description={t("agent.links.numberHelp", { example })} error={error}>
        {(p) => <Input {...p} value={number} autoComplete="off" onChange={(e) => setNumber(e.target.value)} />}
      </Field>
      {failure ? <Alert tone="danger">{failure}</Alert> : null}
      <Button type="submit" size="sm" variant="primary" busy={busy}>
        {t("agent.links.submit")}
      </Button>
    </form>
  );
}

/** Links to other tickets (related, duplicate, parent/child), with the other end's number,
 * title and status. */
export function Links({ ticket }: { ticket: Ticket }) {
  const links = useLinks(ticket.id);
  const items = links.data ?? [];
  const others = useQueries({
    queries: items.map((link) => {
      const otherId = otherEnd(link, ticket.id);
      return {
        queryKey: keys.ticket(otherId),
        queryFn: ({ signal }: { signal: AbortSignal }) =>
          ok(api.GET("/v1/tickets/{ticket_id}", { params: { path: { ticket_id: otherId } }, signal })),
        staleTime: 60_000,
      };
    }),
  });
  return (
    <section aria-labelledby="links-heading" className="rounded-lg border border-border bg-surface p-4 shadow-card" data-testid="links">
      <h2 id="links-heading" className="mb-2 font-semibold">
        {t("agent.links.heading")}
      </h2>
      {links.isPending ? <Spinner label={t("agent.links.loading")} /> : null}
      {links.isError ? <Alert tone="danger">{describeError(links.error)}</Alert> : null}
      {links.isSuccess && !items.length ? <p className="text-fg-muted">{t("agent.links.none")}</p> : null}
      {items.length ? (
        <ul aria-label={t("agent.links.heading")} className="divide-y divide-border">
          {items.map((link, i) => (
            <LinkRow key={link.id} ticketId={ticket.id} link={link} other={others[i]?.data} />
          ))}
        </ul>
      ) : null}
      <div className="mt-3">
        <AddLink ticketId={ticket.id} example={ticket.number} />
      </div>
    </section>
  );
}
