/**
 * The access token lives in memory only (never in storage a script could read later); the
 * refresh token is an httpOnly cookie scoped to /v1/auth that this code never sees.
 *
 * Refresh rotates the cookie and the server revokes the whole session if an old cookie is
 * presented again, so refreshes must never overlap: one in flight per tab (a shared
 * promise) and one at a time across tabs (a Web Lock), so a second tab sends the cookie
 * the first one just received.
 */

export interface AccessToken {
  token: string;
  expiresAt: number; // epoch ms
}

type Listener = (token: AccessToken | null) => void;

const REFRESH_PATH = "/v1/auth/refresh";
const EARLY_MS = 30_000;

let current: AccessToken | null = null;
// After a sign-out (or a refused refresh) nothing asks for a refresh until a sign-in.
let hadSession = true;
let inflight: Promise<AccessToken | null> | null = null;
// Bumped by every sign-in and sign-out: a refresh answers for the session that was current
// when it was sent. One sent before a sign-in (the page's silent sign-in at boot, while a
// landing page exchanges an SSO code, a magic link or an invitation) must not undo it: its
// 401 said "no cookie yet", not "this new session ended".
let generation = 0;
const listeners = new Set<Listener>();

export function getToken(): AccessToken | null {
  return current;
}

export function setToken(token: AccessToken | null): void {
  current = token;
  for (const listener of listeners) listener(token);
}

export function fromResponse(body: { access_token: string; expires_in: number }): AccessToken {
  return { token: body.access_token, expiresAt: Date.now() + body.expires_in * 1000 };
}

export function onTokenChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function isFresh(token: AccessToken | null, now = Date.now()): token is AccessToken {
  return token !== null && token.expiresAt - EARLY_MS > now;
}

async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
  if (!locks) return fn();
  return locks.request("servicedesk-refresh", fn);
}

async function doRefresh(fetcher: typeof fetch): Promise<AccessToken | null> {
  return withLock(async () => {
    const sentFor = generation;
    const response = await fetcher(REFRESH_PATH, {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (sentFor !== generation) return current; // signed in or out meanwhile: that stands
    if (response.status === 401 || response.status === 403) {
      hadSession = false;
      setToken(null);
      return null;
    }
    if (!response.ok) throw new Error(`refresh failed (${response.status})`);
    const token = fromResponse((await response.json()) as { access_token: string; expires_in: number });
    if (sentFor !== generation) return current;
    setToken(token);
    return token;
  });
}

/** A new access token from the refresh cookie, or null when there is no session. */
export function refresh(fetcher: typeof fetch = fetch): Promise<AccessToken | null> {
  inflight ??= doRefresh(fetcher).finally(() => {
    inflight = null;
  });
  return inflight;
}

/** A usable token: the current one, or a refreshed one when it is about to expire. */
export async function freshToken(fetcher: typeof fetch = fetch): Promise<AccessToken | null> {
  if (isFresh(current)) return current;
  if (!hadSession && inflight === null) return null;
  return refresh(fetcher);
}

export function markSignedOut(): void {
  generation += 1;
  hadSession = false;
  setToken(null);
}
export function markSignedIn(token: AccessToken): void {
  generation += 1;
  hadSession = true;
  setToken(token);
}
