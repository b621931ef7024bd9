import { useEffect } from "react";
import { applyBranding, useBranding } from "./branding";

/** Applies the tenant's colours while the signed-in shell is shown (no rebuild: read at
 * run time); signing out or switching organisation puts the design tokens back. */
export function BrandingStyle() {
  const branding = useBranding();
  const primary = branding.data?.data.primary_color ?? null;
  const accent = branding.data?.data.accent_color ?? null;
  useEffect(() => {
    applyBranding({ primary_color: primary, accent_color: accent });
    return () => applyBranding(null);
  }, [primary, accent]);
  return null;
}
