import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, ok } from "../api/client";
import { Badge, Card } from "../components/ui";
import { t, type MessageKey } from "../i18n";
import { ApprovalStages } from "./ApprovalStages";
import { STATE_TONE } from "./types";

/** A ticket's approval status (a service request that waits, or waited, for approval):
 * the latest approval's stages, who decided and their comments. Nothing without one. */
export function TicketApprovalCard({ ticketId, status, names }: { ticketId: string; status: string; names?: Record<string, string> }) {
  const approvals = useQuery({
    queryKey: ["tickets", ticketId, "approvals", status],
    queryFn: ({ signal }) => ok(api.GET("/v1/tickets/{ticket_id}/approvals", { params: { path: { ticket_id: ticketId } }, signal })),
  });
  const latest = approvals.data?.[0];
  if (!latest) return null;
  return (
    <Card className="p-4" aria-labelledby="ticket-approval-heading">
      <div className="mb-3 flex items-center justify-between gap-2">
        <h2 id="ticket-approval-heading" className="font-semibold text-fg">
          <Link to={`/approvals/${latest.id}`} className="text-accent-text underline">
            {t("approvals.onTicket")}
          </Link>
        </h2>
        <Badge tone={STATE_TONE[latest.state]}>{t(`approvals.state.${latest.state}` as MessageKey)}</Badge>
      </div>
      <ApprovalStages stages={latest.stages} names={names} />
    </Card>
  );
}
