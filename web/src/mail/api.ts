import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { api, ok } from "../api/client";
import type { components } from "../api/schema";

type Schemas = components["schemas"];
export type InboundMail = Schemas["InboundMailPublic"];
export type Original = Schemas["Original"];

export const mailKeys = {
  held: ["mail", "held"] as const,
  original: (id: string) => ["mail", "original", id] as const,
  ticket: (id: string) => ["mail", "ticket", id] as const,
};

/** Held mail, newest first, a page at a time. */
export function useHeldMail() {
  return useInfiniteQuery({
    queryKey: mailKeys.held,
    initialPageParam: null as string | null,
    queryFn: ({ pageParam, signal }) => ok(api.GET("/v1/mail/held", { params: { query: { limit: 25, cursor: pageParam } }, signal })),
    getNextPageParam: (page) => page.next_cursor ?? null,
  });
}

/** A received message as it came (staff): headers, whole text, a short-lived raw link. */
export function useOriginal(id: string | null) {
  return useQuery({
    queryKey: mailKeys.original(id ?? ""),
    enabled: id !== null,
    queryFn: ({ signal }) => ok(api.GET("/v1/mail/messages/{mail_id}", { params: { path: { mail_id: id ?? "" } }, signal })),
    staleTime: 60_000,
  });
}

/** The messages a ticket and its comments were made of. */
export function useTicketMail(ticketId: string, enabled: boolean) {
  return useQuery({
    queryKey: mailKeys.ticket(ticketId),
    enabled,
    queryFn: ({ signal }) => ok(api.GET("/v1/mail/tickets/{ticket_id}/messages", { params: { path: { ticket_id: ticketId } }, signal })),
  });
}
