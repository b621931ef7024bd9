import { Link } from "react-router";
import { useRuntimeConfig } from "./runtime";

/** Shown only where the runtime says it is a development one (local/web.py's config.json):
 * e-mail is caught there, not sent, and the mail viewer shows it. */
export function DevBanner() {
  const { data } = useRuntimeConfig();
  if (data?.environment !== "dev") return null;
  return (
    <div role="region" aria-label="Development" className="border-b border-border bg-surface-muted" data-testid="dev-banner">
      <p className="mx-auto flex max-w-7xl flex-wrap items-center gap-x-3 gap-y-1 px-4 py-1.5 text-sm text-fg">
        <strong className="font-semibold">Development</strong>
        <span className="text-fg-muted">E-mail is caught here, not sent.</span>
        {data.mailViewer ? (
          <Link to="/dev/mail" className="font-medium text-accent-text underline underline-offset-2">
            Caught e-mail
          </Link>
        ) : null}
      </p>
    </div>
  );
}
