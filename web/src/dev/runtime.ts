import { useQuery } from "@tanstack/react-query";
import { authFetch } from "../api/client";
import { ApiError, isProblem } from "../api/problem";

/** What /config.json says about this runtime: the local runtime (local/web.py) adds
 * `environment: "dev"` and `mailViewer: true`; the config the web stack writes in AWS has
 * neither, so production never shows the development banner. */
export interface RuntimeConfig {
  environment?: string;
  mailViewer?: boolean;
}

export function parseRuntimeConfig(value: unknown): RuntimeConfig {
  if (typeof value !== "object" || value === null) return {};
  const raw = value as Record<string, unknown>;
  return {
    environment: typeof raw.environment === "string" ? raw.environment : undefined,
    mailViewer: raw.mailViewer === true,
  };
}

export function useRuntimeConfig() {
  return useQuery({
    queryKey: ["runtime-config"],
    queryFn: async ({ signal }) => {
      const response = await fetch("/config.json", { cache: "no-store", signal });
      return response.ok ? parseRuntimeConfig(await response.json()) : {};
    },
    staleTime: Infinity,
    retry: false,
  });
}

export interface CaughtMail {
  name: string;
  to: string;
  subject: string;
  date: string;
  event_type: string | null;
}

export interface CaughtMessage {
  name: string;
  headers: { name: string; value: string }[];
  text: string | null;
  html: string | null;
}

/** The dev mail API (local/devmail.py) is the local runtime's, not the public API's, so it
 * is not in the OpenAPI document: called with the session's token through authFetch. */
async function devGet<T>(path: string, signal?: AbortSignal): Promise<T> {
  const response = await authFetch(new Request(path, { signal, credentials: "same-origin" }));
  if (!response.ok) {
    let problem: unknown = null;
    try {
      problem = await response.json();
    } catch {
      problem = null;
    }
    throw new ApiError(response.status, isProblem(problem) ? problem : null);
  }
  return (await response.json()) as T;
}

export function useCaughtMail() {
  return useQuery({
    queryKey: ["dev-mail"],
    queryFn: ({ signal }) => devGet<{ items: CaughtMail[] }>("/v1/dev/mail?limit=100", signal),
  });
}

export function useCaughtMessage(name: string | undefined) {
  return useQuery({
    queryKey: ["dev-mail", name],
    enabled: Boolean(name),
    queryFn: ({ signal }) => devGet<CaughtMessage>(`/v1/dev/mail/${encodeURIComponent(name ?? "")}/parts`, signal),
  });
}
