import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, ok } from "../api/client";
import { useMe } from "../auth/AuthProvider";
import { Badge, Card } from "../components/ui";
import { can } from "../lib/domain";
import { t } from "../i18n/changes";
import { STATE_LABELS } from "./api";

/** On the agent's ticket page: the changes linked to the ticket (an incident's fix, a
 * problem's change), for staff who may read changes. Nothing when none is linked. */
export function TicketChanges({ ticketId }: { ticketId: string }) {
  const me = useMe();
  const allowed = can(me, "change:read");
  const linked = useQuery({
    queryKey: ["changes", "ticket", ticketId],
    enabled: allowed,
    queryFn: ({ signal }) => ok(api.GET("/v1/changes", { params: { query: { ticket_id: ticketId, limit: 20 } }, signal })),
    select: (page) => page.items,
  });
  if (!allowed || !linked.data?.length) return null;
  return (
    <Card aria-labelledby="ticket-changes-heading" className="space-y-2">
      <h2 id="ticket-changes-heading" className="font-semibold text-fg">
        {t("changes.ticket.heading")}
      </h2>
      <ul className="space-y-1" data-testid="ticket-changes">
        {linked.data.map((c) => (
          <li key={c.id} className="flex flex-wrap items-center gap-2">
            <Link to={`/changes/${c.id}`} className="text-accent-text underline">
              {t("changes.refTitle", { n: c.number, title: c.title })}
            </Link>
            <Badge tone="info">{STATE_LABELS[c.state]}</Badge>
          </li>
        ))}
      </ul>
    </Card>
  );
}
