/**
 * Calls of the reports screens: the catalogue and a report (GET /v1/reports[/{name}]), the
 * dashboard (GET /v1/reports/dashboard), asynchronous exports (/v1/exports) and scheduled
 * reports (/v1/report-subscriptions). Through `authFetch` (the caller's token, one refresh
 * on a 401) with the contract's types (./types.ts); errors are ApiErrors with the problem.
 */
import { keepPreviousData, useQuery, type QueryClient } from "@tanstack/react-query";
import { authFetch } from "../api/client";
import { ApiError, isProblem } from "../api/problem";
import { jobsPoll } from "./jobs";
import type { Dashboard, ExportJob, ExportRequest, ReportInfo, ReportResult, Subscription, SubscriptionInput } from "./types";

type Query = Record<string, string | number | boolean | null | undefined | readonly string[]>;

export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === null || value === undefined || value === "") continue;
    if (Array.isArray(value)) for (const item of value) params.append(key, String(item));
    else params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

async function problemOf(response: Response): Promise<ApiError> {
  const body: unknown = await response.json().catch(() => null);
  return new ApiError(response.status, isProblem(body) ? body : null);
}

export async function call<T>(method: string, path: string, options: { query?: Query; body?: unknown; headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<T> {
  const headers = new Headers(options.headers);
  if (options.body !== undefined) headers.set("Content-Type", "application/json");
  headers.set("Accept", "application/json");
  const response = await authFetch(
    new Request(withQuery(path, options.query), {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    }),
  );
  if (!response.ok) throw await problemOf(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

export const reportKeys = {
  all: ["reports"] as const,
  catalogue: ["reports", "catalogue"] as const,
  report: (name: string, query: Record<string, string>) => ["reports", "run", name, query] as const,
  dashboard: (tz: string) => ["reports", "dashboard", tz] as const,
  exports: ["exports"] as const,
  subscriptions: ["report-subscriptions"] as const,
};

export function useCatalogue() {
  return useQuery({
    queryKey: reportKeys.catalogue,
    staleTime: 10 * 60_000,
    queryFn: ({ signal }) => call<ReportInfo[]>("GET", "/v1/reports", { signal }),
  });
}

export function useReport(name: string, query: Record<string, string>, enabled: boolean) {
  return useQuery({
    queryKey: reportKeys.report(name, query),
    enabled,
    placeholderData: keepPreviousData,
    queryFn: ({ signal }) => call<ReportResult>("GET", `/v1/reports/${encodeURIComponent(name)}`, { query, signal }),
    retry: (count, error) => !(error instanceof ApiError && error.status < 500) && count < 2,
  });
}

/** The dashboard; `pollMs` only while the WebSocket is down (pushes refetch it otherwise). */
export function useDashboard(tz: string, pollMs: number | false = false) {
  return useQuery({
    queryKey: reportKeys.dashboard(tz),
    refetchInterval: pollMs,
    queryFn: ({ signal }) => call<Dashboard>("GET", "/v1/reports/dashboard", { query: { tz }, signal }),
  });
}

export function startExport(request: ExportRequest, key: string): Promise<ExportJob> {
  return call<ExportJob>("POST", "/v1/exports", { body: request, headers: { "Idempotency-Key": key } });
}

function jobList(answer: { items: ExportJob[] } | ExportJob[] | undefined): ExportJob[] | undefined {
  return answer === undefined ? undefined : Array.isArray(answer) ? answer : answer.items;
}

/** My export jobs, read again every 2 s while one is still being prepared. */
export function useExports() {
  return useQuery<{ items: ExportJob[] } | ExportJob[], Error, ExportJob[]>({
    queryKey: reportKeys.exports,
    refetchInterval: (query) => jobsPoll(jobList(query.state.data)),
    queryFn: ({ signal }) => call<{ items: ExportJob[] } | ExportJob[]>("GET", "/v1/exports", { signal }),
    select: (answer): ExportJob[] => jobList(answer) ?? [],
  });
}

export function exportDownload(id: string): Promise<{ url: string; filename: string; expires_at: string }> {
  return call("GET", `/v1/exports/${encodeURIComponent(id)}/download`);
}

export function useSubscriptions() {
  return useQuery({
    queryKey: reportKeys.subscriptions,
    queryFn: ({ signal }) => call<{ items: Subscription[] } | Subscription[]>("GET", "/v1/report-subscriptions", { signal }),
    select: (answer): Subscription[] => (Array.isArray(answer) ? answer : answer.items),
  });
}

export function createSubscription(input: SubscriptionInput, key: string): Promise<Subscription> {
  return call<Subscription>("POST", "/v1/report-subscriptions", { body: input, headers: { "Idempotency-Key": key } });
}

/** A change carries the version it read (412 when someone saved meanwhile); the report
 * of a subscription is fixed. */
export function updateSubscription(id: string, version: number, patch: Partial<Omit<SubscriptionInput, "report">>): Promise<Subscription> {
  return call<Subscription>("PATCH", `/v1/report-subscriptions/${encodeURIComponent(id)}`, { body: { ...patch, version } });
}

export function deleteSubscription(id: string): Promise<void> {
  return call<void>("DELETE", `/v1/report-subscriptions/${encodeURIComponent(id)}`);
}

/** Put a subscription the server just answered into the list's cache (a list read still
 * in flight is cancelled first: its older answer must not land after this one). */
export async function storeSubscription(client: QueryClient, saved: Subscription): Promise<void> {
  await client.cancelQueries({ queryKey: reportKeys.subscriptions });
  client.setQueryData<{ items: Subscription[] } | Subscription[]>(reportKeys.subscriptions, (old) => {
    if (!old) return old;
    const replace = (list: Subscription[]) => list.map((s) => (s.id === saved.id ? saved : s));
    return Array.isArray(old) ? replace(old) : { ...old, items: replace(old.items) };
  });
}
