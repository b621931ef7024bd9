import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useNavigate } from "react-router";
import { api, ok } from "../api/client";
import { freshToken } from "../api/session";
import { useAuth, useMe } from "../auth/AuthProvider";
import { Select } from "../components/ui";
import { t } from "../i18n";
import { homeFor } from "./home";

/** The organisations the person belongs to, by name (GET /v1/me/tenants); shown only to
 * someone with more than one. Choosing one starts a session there (switch-tenant). */
export function OrgSwitcher() {
  const me = useMe();
  const { signIn } = useAuth();
  const navigate = useNavigate();
  const [failed, setFailed] = useState<string | null>(null);
  const tenants = useQuery({ queryKey: ["me", "tenants", me.tenant.id], queryFn: ({ signal }) => ok(api.GET("/v1/me/tenants", { signal })), staleTime: 5 * 60_000 });
  const list = tenants.data ?? [];
  if (list.length < 2) return null;

  async function choose(slug: string) {
    setFailed(null);
    try {
      // The client sends no token to /v1/auth/* (sign-in routes); this one needs the caller's.
      const token = await freshToken();
      const headers = token ? { Authorization: `Bearer ${token.token}` } : undefined;
      const tokens = await ok(api.POST("/v1/auth/switch-tenant", { body: { tenant: slug }, headers }));
      const next = await signIn(tokens);
      navigate(homeFor(next.role), { replace: true });
    } catch (error) {
      setFailed(error instanceof Error ? error.message : String(error));
    }
  }

  return (
    <div className="flex items-center gap-2">
      <label htmlFor="org-switcher" className="sr-only">
        {t("shell.org.label")}
      </label>
      <div className="w-48">
        <Select id="org-switcher" value={me.tenant.slug} onChange={(e) => void choose(e.target.value)} aria-describedby={failed ? "org-switcher-error" : undefined}>
          {list.map((org) => (
            <option key={org.slug} value={org.slug}>
              {org.name}
            </option>
          ))}
        </Select>
      </div>
      {failed ? (
        <p id="org-switcher-error" role="alert" className="text-danger-text">
          {t("shell.org.failed", { reason: failed })}
        </p>
      ) : null}
    </div>
  );
}
