import { useQuery } from "@tanstack/react-query";
import { api } from "../api/client";
import { ApiError, isProblem } from "../api/problem";
import type { components } from "../api/schema";

/** The tenant's branding section (GET/PUT /v1/settings/branding). */
export type Branding = components["schemas"]["BrandingSettings"];
export type PublicBranding = components["schemas"]["BrandingPublic"];

export interface TaggedBranding {
  data: Branding;
  etag: string;
}

export const BRANDING_KEY = ["settings", "branding"] as const;

async function tagged(pending: Promise<{ data?: Branding; error?: unknown; response: Response }>): Promise<TaggedBranding> {
  const { data, error, response } = await pending;
  if (!response.ok || !data) throw new ApiError(response.status, isProblem(error) ? error : null);
  return { data, etag: response.headers.get("ETag") ?? "" };
}

/** Read and replace the section: the shape of admin/settings.ts's SettingsSection, kept
 * here so that the shell (which applies the branding) does not load the admin screens. */
export const brandingSection = {
  key: BRANDING_KEY as unknown as readonly unknown[],
  get: (signal?: AbortSignal) => tagged(api.GET("/v1/settings/branding", { signal })),
  put: (body: Branding, ifMatch: string) => tagged(api.PUT("/v1/settings/branding", { params: { header: { "If-Match": ifMatch } }, body })),
};

/** The branding as the server holds it now. A save writes the answer into this query, so
 * the shell shows a change at once; other tabs see it within a minute. */
export function useBranding() {
  return useQuery({ queryKey: brandingSection.key, queryFn: ({ signal }) => brandingSection.get(signal), staleTime: 60_000, refetchInterval: 60_000 });
}

/** The same-origin address of a tenant's logo (a redirect to a short-lived link). */
export function logoUrl(slug: string, attachmentId: string): string {
  return `/v1/branding/${encodeURIComponent(slug)}/logo?v=${encodeURIComponent(attachmentId)}`;
}

/** Apply the colours to the page: CSS custom properties on <html> (tokens.css maps them);
 * none given, the design tokens as built. */
export function applyBranding(colours: Pick<Branding, "primary_color" | "accent_color"> | null, root: HTMLElement = document.documentElement): void {
  const primary = colours?.primary_color ?? null;
  const accent = colours?.accent_color ?? null;
  if (primary) {
    root.style.setProperty("--sd-brand-primary", primary);
    root.dataset.brandPrimary = primary;
  } else {
    root.style.removeProperty("--sd-brand-primary");
    delete root.dataset.brandPrimary;
  }
  if (accent) root.style.setProperty("--sd-brand-accent", accent);
  else root.style.removeProperty("--sd-brand-accent");
}
