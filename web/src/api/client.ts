import createClient from "openapi-fetch";
import { ApiError, NetworkError, isProblem } from "./problem";
import type { paths } from "./schema";
import { freshToken, refresh, type AccessToken } from "./session";

const AUTH_PATHS = ["/v1/auth/", "/v1/signup"];

function isAuthPath(url: string): boolean {
  const path = new URL(url, window.location.origin).pathname;
  return AUTH_PATHS.some((prefix) => path.startsWith(prefix));
}

async function send(request: Request, token: AccessToken | null): Promise<Response> {
  if (token && !isAuthPath(request.url)) request.headers.set("Authorization", `Bearer ${token.token}`);
  try {
    return await fetch(request);
  } catch (cause) {
    if (cause instanceof DOMException && cause.name === "AbortError") throw cause;
    throw new NetworkError(cause);
  }
}

/**
 * fetch with the caller's access token; on a 401 it refreshes once (the token may have
 * expired while the tab slept) and replays the request. Given a function that builds the
 * request, it builds the replay afresh rather than cloning: a cloned body goes out as a
 * stream, which the browser's tools (and Playwright) cannot show.
 */
export async function authFetch(input: Request | (() => Request)): Promise<Response> {
  const build = typeof input === "function" ? input : null;
  const request = build ? build() : (input as Request);
  const copy = build ? null : request.clone();
  const first = await send(request, isAuthPath(request.url) ? null : await freshToken());
  if (first.status !== 401 || isAuthPath(request.url)) return first;
  const renewed = await refresh();
  return renewed ? send(build ? build() : (copy as Request), renewed) : first;
}

// The JSON answers: routes that can also answer CSV (exports) are read as JSON here.
export const api = createClient<paths, "application/json">({
  baseUrl: "",
  credentials: "same-origin",
  fetch: authFetch,
});

interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The body of a successful answer; an ApiError (with the problem) otherwise. */
export async function ok<T>(pending: Promise<Answer<T>>): Promise<T> {
  const { data, error, response } = await pending;
  if (!response.ok) throw new ApiError(response.status, isProblem(error) ? error : null);
  return data as T;
}

/** A fresh Idempotency-Key for one logical create (reused when the same submit retries). */
export function idempotencyKey(): string {
  return crypto.randomUUID();
}

/** The If-Match value for a version the caller read. */
export function etag(version: number): string {
  return `"${version}"`;
}
