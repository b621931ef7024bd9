import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { api, idempotencyKey, ok } from "../api/client";
import { describeError } from "../api/problem";
import type { Ticket } from "../api/types";
import { StatusBadge } from "../components/TicketBadges";
import { Alert, Button, Card, Spinner } from "../components/ui";
import { keys, storeTicket } from "../tickets/queries";
import { t } from "../i18n";

export const incidentKeys = (id: string) => ["tickets", id, "incidents"] as const;

/** A problem's incidents (problem_of links) with their count, and "resolve the problem and
 * its incidents" in one step (one transaction on the server, one timeline entry each). */
export function Incidents({ ticket }: { ticket: Ticket }) {
  const client = useQueryClient();
  const [message, setMessage] = useState<string | null>(null);
  const incidents = useQuery({
    queryKey: incidentKeys(ticket.id),
    queryFn: ({ signal }) =>
      ok(api.GET("/v1/tickets/{ticket_id}/incidents", { params: { path: { ticket_id: ticket.id }, query: { limit: 100 } }, signal })),
  });
  const resolve = useMutation({
    mutationFn: () =>
      ok(
        api.POST("/v1/tickets/{ticket_id}/transitions", {
          params: { path: { ticket_id: ticket.id }, header: { "Idempotency-Key": idempotencyKey() } },
          body: { to: "resolved", version: ticket.version, resolve_incidents: true },
        }),
      ),
    onSuccess: (updated) => {
      storeTicket(client, updated);
      setMessage(null);
      void client.invalidateQueries({ queryKey: incidentKeys(ticket.id) });
      void client.invalidateQueries({ queryKey: keys.events(ticket.id) });
    },
    onError: (error) => setMessage(describeError(error)),
  });
  const count = ticket.incident_count ?? incidents.data?.items.length ?? 0;
  const canResolve = (ticket.allowed_transitions ?? []).includes("resolved");
  return (
    <Card as="section" aria-labelledby="incidents-heading">
      <h2 id="incidents-heading" className="mb-2 font-semibold">
        {t("agent.incidents.heading")}
        <span className="text-fg-muted" data-testid="incident-count">
          {t("agent.incidents.count", { count })}
        </span>
      </h2>
      {incidents.isPending ? <Spinner label={t("agent.incidents.loading")} /> : null}
      {incidents.data && !incidents.data.items.length ? <p className="text-fg-muted">{t("agent.incidents.empty")}</p> : null}
      <ul className="divide-y divide-border" data-testid="incident-rows">
        {incidents.data?.items.map((i) => (
          <li key={i.id} className="flex items-center justify-between gap-2 py-1.5">
            <Link to={`/tickets/${i.id}`} className="min-w-0 truncate text-accent-text underline">
              <span className="font-mono">{i.number}</span> {i.title}
            </Link>
            <StatusBadge status={i.status} staff />
          </li>
        ))}
      </ul>
      {message ? <Alert tone="danger">{message}</Alert> : null}
      {canResolve && count ? (
        <div className="mt-3">
          <Button busy={resolve.isPending} onClick={() => resolve.mutate()}>
            {t("agent.incidents.resolve")}
          </Button>
        </div>
      ) : null}
    </Card>
  );
}
