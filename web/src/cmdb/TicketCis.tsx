import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { api, idempotencyKey, ok } from "../api/client";
import { describeError } from "../api/problem";
import { Alert, Button, Card, Field, Input, Spinner } from "../components/ui";
import { t } from "../i18n/cmdb";
import { cmdbKeys } from "./api";

/** On the agent's ticket page: the CIs linked to the ticket (link by search, unlink) and
 * the business services they are or support (affected services). */
export function TicketCis({ ticketId }: { ticketId: string }) {
  const client = useQueryClient();
  const [q, setQ] = useState("");
  const [error, setError] = useState<unknown>(null);
  const linked = useQuery({
    queryKey: cmdbKeys.ticketCis(ticketId),
    queryFn: ({ signal }) =>
      ok(api.GET("/v1/tickets/{ticket_id}/cis", { params: { path: { ticket_id: ticketId }, query: { limit: 50 } }, signal })),
    select: (page) => page.items,
  });
  const affected = useQuery({
    queryKey: cmdbKeys.affected(ticketId),
    queryFn: ({ signal }) =>
      ok(api.GET("/v1/tickets/{ticket_id}/affected-services", { params: { path: { ticket_id: ticketId } }, signal })),
  });
  const found = useQuery({
    queryKey: ["cmdb", "find", q.trim()],
    enabled: q.trim().length > 1,
    queryFn: ({ signal }) => ok(api.GET("/v1/cis", { params: { query: { q: q.trim(), limit: 5 } }, signal })),
    select: (page) => page.items,
  });
  const refresh = () => {
    setError(null);
    void client.invalidateQueries({ queryKey: cmdbKeys.ticketCis(ticketId) });
    void client.invalidateQueries({ queryKey: cmdbKeys.affected(ticketId) });
  };
  const link = useMutation({
    mutationFn: (ciId: string) =>
      ok(
        api.POST("/v1/tickets/{ticket_id}/cis", {
          params: { path: { ticket_id: ticketId }, header: { "Idempotency-Key": idempotencyKey() } },
          body: { ci_id: ciId },
        }),
      ),
    onSuccess: () => {
      setQ("");
      refresh();
    },
    onError: setError,
  });
  const unlink = useMutation({
    mutationFn: (ciId: string) =>
      ok(api.DELETE("/v1/tickets/{ticket_id}/cis/{ci_id}", { params: { path: { ticket_id: ticketId, ci_id: ciId } } })),
    onSuccess: refresh,
    onError: setError,
  });
  return (
    <Card as="section" aria-labelledby="ticket-cis-heading">
      <h2 id="ticket-cis-heading" className="mb-2 font-semibold">
        {t("cmdb.ticket.heading")}
      </h2>
      {linked.isPending ? <Spinner /> : null}
      {linked.data && !linked.data.length ? <p className="text-fg-muted">{t("cmdb.ticket.empty")}</p> : null}
      <ul className="divide-y divide-border" data-testid="ticket-cis">
        {linked.data?.map((ci) => (
          <li key={ci.id} className="flex items-center justify-between gap-2 py-1.5">
            <Link to={`/cmdb/${ci.id}`} className="min-w-0 truncate text-accent-text underline">
              {ci.name}
            </Link>
            <Button size="sm" onClick={() => unlink.mutate(ci.id)} aria-label={t("cmdb.ticket.unlink", { name: ci.name })}>
              ×
            </Button>
          </li>
        ))}
      </ul>
      <Field label={t("cmdb.ticket.find")} className="mt-2">
        {(p) => <Input {...p} type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder={t("cmdb.ticket.findHint")} />}
      </Field>
      {found.data?.length ? (
        <ul className="mt-1" data-testid="ci-candidates">
          {found.data.map((ci) => (
            <li key={ci.id} className="flex items-center justify-between gap-2 py-1">
              <span className="min-w-0 truncate">{ci.name}</span>
              <Button size="sm" onClick={() => link.mutate(ci.id)} busy={link.isPending}>
                {t("cmdb.ticket.link")}
              </Button>
            </li>
          ))}
        </ul>
      ) : null}
      {error ? <Alert>{describeError(error)}</Alert> : null}
      <h3 className="mt-3 font-medium">{t("cmdb.ticket.services")}</h3>
      {affected.data && !affected.data.services.length ? <p className="text-fg-muted">{t("cmdb.ticket.noServices")}</p> : null}
      <ul className="list-disc pl-5" data-testid="affected-services">
        {affected.data?.services.map((s) => (
          <li key={s.ci.id}>
            <Link to={`/cmdb/${s.ci.id}`} className="text-accent-text underline">
              {s.ci.name}
            </Link>
          </li>
        ))}
      </ul>
    </Card>
  );
}
