import { useQuery } from "@tanstack/react-query";
import { api } from "../api/client";
import type { components } from "../api/schema";

/** What anyone may read of an organisation's branding (GET /v1/branding/{slug}); a slug no
 * organisation has answers as one without branding (the default look). */
export type PublicBranding = components["schemas"]["BrandingPublic"];

const LAST_ORG_KEY = "sd.lastOrg";
const SLUG = /^[a-z0-9][a-z0-9-]{1,48}[a-z0-9]$/;

/** Remember the organisation last signed in to, so the sign-in page can wear its look. */
export function rememberOrg(slug: string): void {
  try {
    localStorage.setItem(LAST_ORG_KEY, slug);
  } catch {
    // storage refused (private mode): the default look next time
  }
}

/** The organisation the sign-in page is for: `?org=<slug>`, else the one last signed in to. */
export function knownOrg(params: URLSearchParams): string | null {
  let slug = params.get("org");
  if (!slug) {
    try {
      slug = localStorage.getItem(LAST_ORG_KEY);
    } catch {
      slug = null;
    }
  }
  return slug && SLUG.test(slug) ? slug : null;
}

export function usePublicBranding(slug: string | null) {
  return useQuery({
    queryKey: ["public-branding", slug],
    enabled: slug !== null,
    staleTime: 30_000,
    queryFn: async ({ signal }): Promise<PublicBranding | null> => {
      const { data } = await api.GET("/v1/branding/{slug}", { params: { path: { slug: slug ?? "" } }, signal });
      return data ?? null;
    },
  });
}
