import { useBranding } from "./branding";

/** The tenant's portal welcome (branding), as written: plain text, line breaks kept. */
export function Welcome() {
  const text = useBranding().data?.data.welcome_text;
  if (!text) return null;
  return (
    <p data-testid="portal-welcome" className="mb-4 whitespace-pre-line rounded-lg border border-border bg-surface px-4 py-3 text-fg">
      {text}
    </p>
  );
}
