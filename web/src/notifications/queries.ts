import { useInfiniteQuery, useMutation, useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { api, ok } from "../api/client";
import type { components } from "../api/schema";

export type Notification = components["schemas"]["NotificationPublic"];

export const notificationKeys = {
  all: ["notifications"] as const,
  unread: ["notifications", "unread-count"] as const,
  list: (filter: "all" | "unread", limit: number) => ["notifications", "list", filter, limit] as const,
};

/** The unread count for the bell. Pushes refresh it; `pollMs` is the fallback while the
 * socket is down (false: no polling). */
export function useUnreadCount(pollMs: number | false) {
  return useQuery({
    queryKey: notificationKeys.unread,
    queryFn: ({ signal }) => ok(api.GET("/v1/notifications/unread-count", { signal })),
    select: (answer) => answer.count,
    refetchInterval: pollMs,
  });
}

export function useNotifications(filter: "all" | "unread", limit: number, enabled = true) {
  return useInfiniteQuery({
    queryKey: notificationKeys.list(filter, limit),
    enabled,
    queryFn: ({ pageParam, signal }) =>
      ok(
        api.GET("/v1/notifications", {
          params: { query: { limit, cursor: pageParam, unread: filter === "unread" ? true : null } },
          signal,
        }),
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (page) => page.next_cursor ?? null,
  });
}

/** A notification read: the lists show it read at once, the count drops by one. */
function markedRead(client: QueryClient, read: Notification): void {
  client.setQueriesData<{ pages: { items: Notification[] }[] }>({ queryKey: ["notifications", "list"] }, (data) =>
    data ? { ...data, pages: data.pages.map((p) => ({ ...p, items: p.items.map((n) => (n.id === read.id ? read : n)) })) } : data,
  );
  void client.invalidateQueries({ queryKey: notificationKeys.all });
}

export function useMarkRead() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) =>
      ok(api.POST("/v1/notifications/{notification_id}/read", { params: { path: { notification_id: id } } })),
    onSuccess: (read) => markedRead(client, read),
  });
}

export function useMarkAllRead() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => ok(api.POST("/v1/notifications/read-all")),
    onSuccess: () => {
      client.setQueryData(notificationKeys.unread, { count: 0 });
      void client.invalidateQueries({ queryKey: notificationKeys.all });
    },
  });
}
