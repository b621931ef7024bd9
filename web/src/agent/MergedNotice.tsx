import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, ok } from "../api/client";
import type { Ticket } from "../api/types";
import { Alert } from "../components/ui";
import { keys } from "../tickets/queries";
import { t } from "../i18n";

/** On a merged ticket: where its conversation continues. */
export function MergedNotice({ ticket, portal = false }: { ticket: Ticket; portal?: boolean }) {
  const into = ticket.merged_into_id;
  const target = useQuery({
    queryKey: keys.ticket(into ?? "none"),
    enabled: !!into,
    queryFn: ({ signal }) => ok(api.GET("/v1/tickets/{ticket_id}", { params: { path: { ticket_id: into ?? "" } }, signal })),
  });
  if (!into) return null;
  const number = target.data?.number ?? t("agent.merged.another");
  return (
    <div className="mb-4">
      <Alert tone="info" title={portal ? t("agent.merged.portalTitle") : t("agent.merged.title")}>
        {portal ? t("agent.merged.portalContinues") : t("agent.merged.into")}
        <Link to={`/tickets/${into}`} className="font-medium underline">
          {number}
        </Link>
        {target.data ? t("agent.merged.targetTitle", { title: target.data.title }) : ""}
        {t("agent.merged.end")}
      </Alert>
    </div>
  );
}
