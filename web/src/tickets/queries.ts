import { useInfiniteQuery, useQuery, type QueryClient } from "@tanstack/react-query";
import { api, ok } from "../api/client";
import type { paths } from "../api/schema";
import type { Category, Comment, Level, Team, Ticket, TicketStatus, User } from "../api/types";
import { graphql, page } from "../api/graphql";
import { QueueTickets, type QueueTicketsResult } from "../graphql/operations";

export type TicketListQuery = NonNullable<paths["/v1/tickets"]["get"]["parameters"]["query"]>;

export const keys = {
  tickets: ["tickets"] as const,
  list: (query: TicketListQuery) => ["tickets", "list", query] as const,
  ticket: (id: string) => ["tickets", id] as const,
  comments: (id: string) => ["tickets", id, "comments"] as const,
  attachments: (id: string) => ["tickets", id, "attachments"] as const,
  events: (id: string) => ["tickets", id, "events"] as const,
  sla: (id: string) => ["tickets", id, "sla"] as const,
  participants: (id: string) => ["tickets", id, "participants"] as const,
  categories: ["categories"] as const,
  ticketTypes: ["ticket-types"] as const,
  users: ["users"] as const,
  teams: ["teams"] as const,
  ticketSettings: ["settings", "tickets"] as const,
};

export function useTicketList(query: TicketListQuery, options: { refetchInterval?: number; enabled?: boolean } = {}) {
  return useInfiniteQuery({
    queryKey: keys.list(query),
    queryFn: ({ pageParam, signal }) =>
      ok(api.GET("/v1/tickets", { params: { query: { ...query, cursor: pageParam ?? null } }, signal })),
    initialPageParam: null as string | null,
    getNextPageParam: (page) => page.next_cursor ?? null,
    ...options,
  });
}

type QueueNode = QueueTicketsResult["tickets"]["edges"][number]["node"];

/** A queue row: the ticket's columns and the names (and pictures) of its people. */
export type QueueTicket = Omit<QueueNode, "status" | "priority"> & { status: TicketStatus; priority: Level };

/**
 * The agent's queue through one GraphQL query (the persisted `QueueTickets`): the same
 * filters, sort and keyset pages as GET /v1/tickets, with the requester's and assignee's
 * names in the same answer (no directory lookup, whoever they are). Its key sits under
 * ["tickets", "list"], so the live updates and the writes that refresh lists refresh it.
 */
export function useQueueTickets(query: TicketListQuery, options: { refetchInterval?: number; enabled?: boolean } = {}) {
  const { sort, limit, cursor: _cursor, ...filter } = query;
  return useInfiniteQuery({
    queryKey: [...keys.list(query), "graphql"],
    queryFn: async ({ pageParam, signal }) => {
      const data = await graphql(QueueTickets, { filter, sort, first: limit, after: pageParam }, { signal });
      // status and priority are String in the schema; the server writes only its own values.
      return page(data.tickets, (node): QueueTicket => ({ ...node, status: node.status as TicketStatus, priority: node.priority as Level }));
    },
    initialPageParam: null as string | null,
    getNextPageParam: (answer) => answer.next_cursor ?? null,
    ...options,
  });
}

export function useTicket(id: string) {
  return useQuery({
    queryKey: keys.ticket(id),
    queryFn: ({ signal }) => ok(api.GET("/v1/tickets/{ticket_id}", { params: { path: { ticket_id: id } }, signal })),
  });
}

export function useComments(id: string) {
  return useQuery({
    queryKey: keys.comments(id),
    queryFn: async ({ signal }) => {
      // The whole conversation, oldest first, page after page (100 a page).
      const all: Comment[] = [];
      let cursor: string | null = null;
      do {
        const page: { items: Comment[]; next_cursor?: string | null } = await ok(
          api.GET("/v1/tickets/{ticket_id}/comments", {
            params: { path: { ticket_id: id }, query: { limit: 100, cursor } },
            signal,
          }),
        );
        all.push(...page.items);
        cursor = page.next_cursor ?? null;
      } while (cursor);
      return all;
    },
  });
}

export function useAttachments(id: string) {
  return useQuery({
    queryKey: keys.attachments(id),
    queryFn: ({ signal }) =>
      ok(api.GET("/v1/tickets/{ticket_id}/attachments", { params: { path: { ticket_id: id }, query: { limit: 100 } }, signal })),
    select: (page) => page.items,
  });
}

export function useEvents(id: string, enabled = true) {
  return useQuery({
    queryKey: keys.events(id),
    enabled,
    queryFn: ({ signal }) =>
      ok(api.GET("/v1/tickets/{ticket_id}/events", { params: { path: { ticket_id: id }, query: { limit: 100 } }, signal })),
    select: (page) => page.items,
  });
}

export function useSla(id: string) {
  return useQuery({
    queryKey: keys.sla(id),
    queryFn: ({ signal }) => ok(api.GET("/v1/tickets/{ticket_id}/sla", { params: { path: { ticket_id: id } }, signal })),
  });
}

export function useParticipants(id: string, enabled = true) {
  return useQuery({
    queryKey: keys.participants(id),
    enabled,
    queryFn: ({ signal }) =>
      ok(api.GET("/v1/tickets/{ticket_id}/participants", { params: { path: { ticket_id: id } }, signal })),
  });
}

export function useCategories() {
  return useQuery({
    queryKey: keys.categories,
    staleTime: 5 * 60_000,
    // The whole tree in its order (depth first, siblings by position), with each depth.
    queryFn: ({ signal }) => ok(api.GET("/v1/categories", { params: { query: { active: true, tree: true } }, signal })),
    select: (page): Category[] => page.items,
  });
}

/** The tenant's ticket types in their order (requesters: the ones not archived). */
export function useTicketTypes() {
  return useQuery({
    queryKey: keys.ticketTypes,
    staleTime: 5 * 60_000,
    queryFn: ({ signal }) => ok(api.GET("/v1/ticket-types", { params: { query: { limit: 100 } }, signal })),
    select: (page) => page.items,
  });
}

/** A category's name indented by its depth in the tree (for selects). */
export function treeLabel(category: { name: string; depth?: number }): string {
  return `${"\u00a0\u00a0".repeat(category.depth ?? 0)}${category.depth ? "\u2514 " : ""}${category.name}`;
}

/** Staff only: the tenant's people, for names and the assignee picker (first 100). */
export function useUsers(enabled = true) {
  return useQuery({
    queryKey: keys.users,
    enabled,
    staleTime: 5 * 60_000,
    queryFn: ({ signal }) => ok(api.GET("/v1/users", { params: { query: { limit: 100 } }, signal })),
    select: (page) => new Map<string, User>(page.items.map((u) => [u.id, u])),
  });
}

export function useTeams(enabled = true) {
  return useQuery({
    queryKey: keys.teams,
    enabled,
    staleTime: 5 * 60_000,
    queryFn: ({ signal }) => ok(api.GET("/v1/teams", { params: { query: { limit: 100 } }, signal })),
    select: (page): Team[] => page.items,
  });
}

/** Put a ticket the server just returned into the cache, and mark lists stale. */
export function storeTicket(client: QueryClient, ticket: Ticket): void {
  client.setQueryData(keys.ticket(ticket.id), ticket);
  void client.invalidateQueries({ queryKey: ["tickets", "list"] });
  void client.invalidateQueries({ queryKey: keys.events(ticket.id) });
}

/** Staff only: the tenant's ticket settings (the priority matrix, for impact x urgency). */
export function useTicketSettings(enabled = true) {
  return useQuery({
    queryKey: keys.ticketSettings,
    enabled,
    staleTime: 5 * 60_000,
    queryFn: ({ signal }) => ok(api.GET("/v1/settings/tickets", { signal })),
  });
}
