import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, idempotencyKey, ok } from "../api/client";
import { ApiError } from "../api/problem";
import type { paths } from "../api/schema";
import type { Ticket, TicketStatus } from "../api/types";
import { keys, storeTicket } from "./queries";

export type TicketPatch = NonNullable<paths["/v1/tickets/{ticket_id}"]["patch"]["requestBody"]>["content"]["application/json"];
export type AssignBody = NonNullable<paths["/v1/tickets/{ticket_id}/assign"]["post"]["requestBody"]>["content"]["application/json"];

/** After a 412 the cached ticket is stale: fetch the one someone else saved. */
function reloadOnConflict(client: ReturnType<typeof useQueryClient>, id: string) {
  return (error: unknown) => {
    if (error instanceof ApiError && (error.status === 412 || error.status === 409)) {
      void client.invalidateQueries({ queryKey: keys.ticket(id) });
    }
  };
}

export function useTransition(ticket: Ticket) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (to: TicketStatus) =>
      ok(
        api.POST("/v1/tickets/{ticket_id}/transitions", {
          params: { path: { ticket_id: ticket.id }, header: { "Idempotency-Key": idempotencyKey() } },
          body: { to, version: ticket.version },
        }),
      ),
    onSuccess: (updated) => storeTicket(client, updated),
    onError: reloadOnConflict(client, ticket.id),
  });
}

export function useUpdateTicket(ticket: Ticket) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (patch: TicketPatch) =>
      ok(
        api.PATCH("/v1/tickets/{ticket_id}", {
          params: { path: { ticket_id: ticket.id } },
          body: { ...patch, version: ticket.version },
        }),
      ),
    onSuccess: (updated) => storeTicket(client, updated),
    onError: reloadOnConflict(client, ticket.id),
  });
}

export function useAssign(ticket: Ticket) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: Omit<AssignBody, "version">) =>
      ok(
        api.POST("/v1/tickets/{ticket_id}/assign", {
          params: { path: { ticket_id: ticket.id }, header: { "Idempotency-Key": idempotencyKey() } },
          body: { ...body, version: ticket.version },
        }),
      ),
    onSuccess: (updated) => storeTicket(client, updated),
    onError: reloadOnConflict(client, ticket.id),
  });
}
