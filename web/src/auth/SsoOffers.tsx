import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { api, ok } from "../api/client";
import { t } from "../i18n";

const DOMAIN = /^[^@\s]+@([a-z0-9-]+(\.[a-z0-9-]+)+)$/i;

/** The e-mail's domain once it looks complete (and has stayed so for a moment). */
function useSettledDomain(email: string): string | null {
  const [domain, setDomain] = useState<string | null>(null);
  useEffect(() => {
    const found = DOMAIN.exec(email.trim())?.[1]?.toLowerCase() ?? null;
    const timer = window.setTimeout(() => setDomain(found), 300);
    return () => window.clearTimeout(timer);
  }, [email]);
  return domain;
}

/** Whether the organisation named in the address signs in with its directory (LDAP): the
 * sign-in page then takes a user name as well as an e-mail. The same discovery as the
 * offers' (one request, shared by the query key). */
export function useDirectoryUserNames(org: string | null): boolean {
  const answer = useQuery({
    queryKey: ["sso-offers", null, org],
    enabled: Boolean(org),
    staleTime: 60_000,
    queryFn: ({ signal }) => ok(api.GET("/v1/auth/sso/discover", { params: { query: { tenant: org } }, signal })),
  });
  return Boolean(org && answer.data?.directory_user_names);
}

/**
 * "Sign in with <provider>" for the organisation named in the address (?org=) or the
 * domain of the e-mail being typed (identity/sso.py's discovery: the same answer whether
 * or not the address has an account). Each is a link: the API sends the browser on to
 * the provider, and back to /login/sso.
 */
export function SsoOffers({ email, org, next }: { email: string; org: string | null; next: string | null }) {
  const domain = useSettledDomain(email);
  const offers = useQuery({
    queryKey: ["sso-offers", domain, org],
    enabled: Boolean(domain || org),
    staleTime: 60_000,
    queryFn: ({ signal }) =>
      ok(
        api.GET("/v1/auth/sso/discover", {
          params: { query: domain ? { email: `x@${domain}` } : { tenant: org } },
          signal,
        }),
      ),
    select: (answer) => answer.providers,
  });
  const list = offers.data ?? [];
  if (!list.length) return null;
  const several = new Set(list.map((o) => o.tenant)).size > 1;
  const back = next?.startsWith("/") && !next.startsWith("//") ? `?return_to=${encodeURIComponent(next)}` : "";
  return (
    <div className="mb-4 space-y-2" data-testid="sso-offers">
      {list.map((offer) => (
        <a
          key={`${offer.tenant}/${offer.provider}`}
          href={`${offer.start_url}${back}`}
          className="inline-flex h-10 w-full items-center justify-center gap-2 rounded-md border border-border-strong bg-surface px-4 text-sm font-medium text-fg hover:bg-surface-muted"
        >
          {several ? t("login.ssoWithAt", { name: offer.name, organisation: offer.tenant_name }) : t("login.ssoWith", { name: offer.name })}
        </a>
      ))}
      <p className="text-center text-sm text-fg-muted">{t("login.ssoOr")}</p>
    </div>
  );
}
