import { useInfiniteQuery, useQuery, type QueryClient } from "@tanstack/react-query";
import { api, ok } from "../api/client";
import { ApiError, isProblem } from "../api/problem";
import type { Role } from "../api/types";
import { keys as ticketKeys } from "../tickets/queries";
import type { Calendar, CategoryRow, Policy, TeamRow, TicketTypeRow } from "./types";

/** Query keys of the admin screens. Lists the rest of the app also reads (teams,
 * categories, users) are invalidated under their own keys after a change. */
export const adminKeys = {
  all: ["admin"] as const,
  users: (filters: { q: string; role: Role | ""; active: "" | "true" | "false" }) => ["admin", "users", filters] as const,
  invitations: ["admin", "invitations"] as const,
  teams: ["admin", "teams"] as const,
  team: (id: string) => ["admin", "teams", id] as const,
  categories: ["admin", "categories"] as const,
  categoryTree: ["admin", "categories", "tree"] as const,
  ticketTypes: ["admin", "ticket-types"] as const,
  category: (id: string) => ["admin", "categories", id] as const,
  calendars: ["admin", "calendars"] as const,
  calendar: (id: string) => ["admin", "calendars", id] as const,
  policies: ["admin", "policies"] as const,
  policy: (id: string) => ["admin", "policies", id] as const,
  webhooks: ["admin", "webhooks"] as const,
  webhook: (id: string) => ["admin", "webhooks", id] as const,
  deliveries: (id: string) => ["admin", "webhooks", id, "deliveries"] as const,
  ticketSettings: ["admin", "settings", "tickets"] as const,
  attachmentSettings: ["admin", "settings", "attachments"] as const,
  mailSettings: ["admin", "settings", "mail"] as const,
  mailAddresses: ["admin", "mail", "addresses"] as const,
};

/** A body and the ETag it came with (settings have no version field; the ETag is it). */
export interface Tagged<T> {
  data: T;
  etag: string;
}

interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

export async function okTagged<T>(pending: Promise<Answer<T>>): Promise<Tagged<T>> {
  const { data, error, response } = await pending;
  if (!response.ok) throw new ApiError(response.status, isProblem(error) ? error : null);
  return { data: data as T, etag: response.headers.get("ETag") ?? "" };
}

/** Every page of a cursor-paged list, up to `cap` items. */
export async function allPages<T>(
  fetchPage: (cursor: string | null) => Promise<{ items: T[]; next_cursor?: string | null }>,
  cap = 1000,
): Promise<{ items: T[]; truncated: boolean }> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const page = await fetchPage(cursor);
    items.push(...page.items);
    cursor = page.next_cursor ?? null;
  } while (cursor && items.length < cap);
  return { items: items.slice(0, cap), truncated: cursor !== null || items.length > cap };
}

export function useApprovalFlows() {
  return useQuery({
    queryKey: ["approval-flows"],
    queryFn: ({ signal }) => ok(api.GET("/v1/approvals/flows", { params: { query: { limit: 100 } }, signal })),
    select: (result) => result.items,
  });
}

export function useAdminTeams() {
  return useQuery({
    queryKey: adminKeys.teams,
    queryFn: ({ signal }) =>
      allPages<TeamRow>((cursor) => ok(api.GET("/v1/teams", { params: { query: { limit: 100, cursor } }, signal }))),
    select: (result) => result.items,
  });
}

export function useTeamDetail(id: string) {
  return useQuery({
    queryKey: adminKeys.team(id),
    queryFn: ({ signal }) => ok(api.GET("/v1/teams/{team_id}", { params: { path: { team_id: id } }, signal })),
  });
}

export function useAdminCategories() {
  return useQuery({
    queryKey: adminKeys.categories,
    queryFn: ({ signal }) =>
      allPages<CategoryRow>((cursor) =>
        ok(api.GET("/v1/categories", { params: { query: { limit: 100, cursor } }, signal })),
      ),
    select: (result) => result.items,
  });
}

/** Every category (archived too) in tree order, with its depth. */
export function useCategoryTree() {
  return useQuery({
    queryKey: adminKeys.categoryTree,
    queryFn: ({ signal }) => ok(api.GET("/v1/categories", { params: { query: { tree: true } }, signal })),
    select: (page): CategoryRow[] => page.items,
  });
}

/** Every ticket type (archived too) in their order. */
export function useAdminTicketTypes() {
  return useQuery({
    queryKey: adminKeys.ticketTypes,
    queryFn: ({ signal }) => ok(api.GET("/v1/ticket-types", { params: { query: { limit: 100 } }, signal })),
    select: (page): TicketTypeRow[] => page.items,
  });
}

export function useCategory(id: string) {
  return useQuery({
    queryKey: adminKeys.category(id),
    enabled: id !== "",
    queryFn: ({ signal }) => ok(api.GET("/v1/categories/{category_id}", { params: { path: { category_id: id } }, signal })),
  });
}

export function useCalendars() {
  return useQuery({
    queryKey: adminKeys.calendars,
    queryFn: ({ signal }) =>
      allPages<Calendar>((cursor) => ok(api.GET("/v1/calendars", { params: { query: { limit: 100, cursor } }, signal }))),
    select: (result): Calendar[] => result.items,
  });
}

export function useCalendar(id: string) {
  return useQuery({
    queryKey: adminKeys.calendar(id),
    enabled: id !== "",
    queryFn: ({ signal }) => ok(api.GET("/v1/calendars/{calendar_id}", { params: { path: { calendar_id: id } }, signal })),
  });
}

export function usePolicies() {
  return useQuery({
    queryKey: adminKeys.policies,
    queryFn: ({ signal }) =>
      allPages<Policy>((cursor) => ok(api.GET("/v1/sla-policies", { params: { query: { limit: 100, cursor } }, signal }))),
    select: (result): Policy[] => result.items,
  });
}

export function usePolicy(id: string) {
  return useQuery({
    queryKey: adminKeys.policy(id),
    enabled: id !== "",
    queryFn: ({ signal }) => ok(api.GET("/v1/sla-policies/{policy_id}", { params: { path: { policy_id: id } }, signal })),
  });
}

export function useWebhooks() {
  return useQuery({
    queryKey: adminKeys.webhooks,
    queryFn: ({ signal }) => ok(api.GET("/v1/webhooks", { params: { query: { limit: 100 } }, signal })),
    select: (page) => page.items,
  });
}

export function useWebhook(id: string) {
  return useQuery({
    queryKey: adminKeys.webhook(id),
    queryFn: ({ signal }) => ok(api.GET("/v1/webhooks/{webhook_id}", { params: { path: { webhook_id: id } }, signal })),
  });
}

export function useDeliveries(id: string) {
  return useInfiniteQuery({
    queryKey: adminKeys.deliveries(id),
    queryFn: ({ pageParam, signal }) =>
      ok(
        api.GET("/v1/webhooks/{webhook_id}/deliveries", {
          params: { path: { webhook_id: id }, query: { limit: 25, cursor: pageParam } },
          signal,
        }),
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (page) => page.next_cursor ?? null,
  });
}

/** After a change to teams, categories or users, the rest of the app's lists go stale too. */
export function invalidateShared(client: QueryClient, what: "teams" | "categories" | "users"): void {
  void client.invalidateQueries({ queryKey: ticketKeys[what] });
}
