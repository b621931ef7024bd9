import { useEffect } from "react";
import { applyBranding } from "../branding/branding";
import type { PublicBranding } from "../branding/publicBranding";
import { t } from "../i18n";

/** The organisation's colours on a signed-out page while it is shown (the default look
 * when it has none, or when nobody has that slug: the answer is the same). */
export function usePublicColours(branding: PublicBranding | null | undefined): void {
  const primary = branding?.primary_color ?? null;
  const accent = branding?.accent_color ?? null;
  useEffect(() => {
    applyBranding({ primary_color: primary, accent_color: accent });
    return () => applyBranding(null);
  }, [primary, accent]);
}

/** The organisation's logo, name and welcome above a signed-out form. */
export function OrgBanner({ branding }: { branding: PublicBranding | null | undefined }) {
  if (!branding?.display_name) return null;
  return (
    <div className="mb-6 space-y-2" data-testid="org-banner">
      <div className="flex items-center gap-3">
        {branding.logo_url ? (
          <img src={branding.logo_url} alt={t("login.logoAlt", { name: branding.display_name })} className="h-10 max-w-40 object-contain" />
        ) : null}
        <p className="text-lg font-semibold text-fg">{branding.display_name}</p>
      </div>
      {branding.welcome_text ? <p className="whitespace-pre-line text-fg-muted">{branding.welcome_text}</p> : null}
    </div>
  );
}
