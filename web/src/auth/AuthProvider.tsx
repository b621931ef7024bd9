import { useQueryClient } from "@tanstack/react-query";
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { api, ok } from "../api/client";
import { rememberOrg } from "../branding/publicBranding";
import { fromResponse, markSignedIn, markSignedOut, onTokenChange, refresh } from "../api/session";
import type { Me, TokenResponse } from "../api/types";
import { setDisplayPreferences } from "../lib/format";

export type AuthState =
  | { status: "loading" }
  /** Why: no session when the tab opened, the session ended under us, or a sign-out. */
  | { status: "signedOut"; reason: "none" | "expired" | "signout" }
  | { status: "signedIn"; me: Me };

interface AuthApi {
  state: AuthState;
  /** Start a session from a token answer (login, sign-up, invitation). */
  signIn: (tokens: TokenResponse) => Promise<Me>;
  signOut: () => Promise<void>;
  /** The caller changed (their profile): every screen reads the new one. */
  updateMe: (me: Me) => void;
}

const AuthContext = createContext<AuthApi | null>(null);

/** Unsent replies and requests stay in this tab only until its person signs out. */
function forgetDrafts(): void {
  try {
    for (const key of Object.keys(sessionStorage)) {
      if (key.startsWith("sd-draft:")) sessionStorage.removeItem(key);
    }
  } catch {
    // Storage disabled: there are no drafts to forget.
  }
}

async function loadMe(): Promise<Me> {
  const me = await ok(api.GET("/v1/me"));
  setDisplayPreferences({ timeZone: me.time_zone, locale: me.locale });
  rememberOrg(me.tenant.slug); // the sign-in page wears its look next time
  return me;
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [state, setState] = useState<AuthState>({ status: "loading" });

  useEffect(() => {
    let cancelled = false;
    // Silent sign-in: the refresh cookie (if any) buys an access token for this tab.
    refresh()
      .then(async (token) => {
        if (!token) return { status: "signedOut", reason: "none" } as const;
        return { status: "signedIn", me: await loadMe() } as const;
      })
      .catch(() => ({ status: "signedOut", reason: "none" }) as const)
      .then((next) => {
        // Only the boot's answer: a landing page may have signed in meanwhile (SSO code,
        // magic link, invitation), and that session stands.
        if (!cancelled) setState((previous) => (previous.status === "loading" ? next : previous));
      });
    return () => {
      cancelled = true;
    };
  }, []);

  useEffect(
    () =>
      onTokenChange((token) => {
        if (token !== null) return;
        // The session ended under us (revoked, expired refresh cookie): back to sign-in.
        setState((previous) => (previous.status === "signedIn" ? { status: "signedOut", reason: "expired" } : previous));
        queryClient.clear();
      }),
    [queryClient],
  );

  const signIn = useCallback(async (tokens: TokenResponse) => {
    markSignedIn(fromResponse(tokens));
    queryClient.clear();
    const me = await loadMe();
    setState({ status: "signedIn", me });
    return me;
  }, [queryClient]);

  const signOut = useCallback(async () => {
    try {
      await api.POST("/v1/auth/logout");
    } finally {
      markSignedOut();
      forgetDrafts();
      queryClient.clear();
      setDisplayPreferences({});
      setState({ status: "signedOut", reason: "signout" });
    }
  }, [queryClient]);

  const updateMe = useCallback((me: Me) => {
    setDisplayPreferences({ timeZone: me.time_zone, locale: me.locale });
    setState({ status: "signedIn", me });
  }, []);

  const value = useMemo(() => ({ state, signIn, signOut, updateMe }), [state, signIn, signOut, updateMe]);
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthApi {
  const value = useContext(AuthContext);
  if (!value) throw new Error("useAuth outside AuthProvider");
  return value;
}

/** The signed-in caller; only for screens behind RequireAuth. */
export function useMe(): Me {
  const { state } = useAuth();
  if (state.status !== "signedIn") throw new Error("useMe without a session");
  return state.me;
}
