import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, ok } from "../api/client";
import type { Ticket } from "../api/types";
import { Alert } from "../components/ui";
import { keys } from "../tickets/queries";

/** On a merged ticket: where its conversation continues. */
export function MergedNotice({ ticket, portal = false }: { ticket: Ticket; portal?: boolean }) {
  const into = ticket.merged_into_id;
  const target = useQuery({
    queryKey: keys.ticket(into ?? "none"),
    enabled: !!into,
    queryFn: ({ signal }) => ok(api.GET("/v1/tickets/{ticket_id}", { params: { path: { ticket_id: into ?? "" } }, signal })),
  });
  if (!into) return null;
  const number = target.data?.number ?? "another ticket";
  return (
    <div className="mb-4">
      <Alert tone="info" title={portal ? "This request was merged" : "Merged"}>
        {portal ? "It continues in " : "This ticket was merged into "}
        <Link to={`/tickets/${into}`} className="font-medium underline">
          {number}
        </Link>
        {target.data ? ` (${target.data.title})` : ""}.
      </Alert>
    </div>
  );
}
