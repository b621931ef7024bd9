import { useEffect, useRef } from "react";
import { Badge } from "../components/ui";
import { sanitizeMailHtml } from "../dev/sanitize";
import { snippetSegments } from "./highlight";
import { stateLabel } from "./workflow";
import { t } from "../i18n/kb";

/** A search hit's snippet with its matches marked, rendered as text (highlight.ts). */
export function Snippet({ html }: { html: string }) {
  return (
    <>
      {snippetSegments(html).map((segment, index) =>
        segment.mark ? (
          <mark key={index} className="rounded-sm bg-warning-subtle px-0.5 text-fg">
            {segment.text}
          </mark>
        ) : (
          <span key={index}>{segment.text}</span>
        ),
      )}
    </>
  );
}

/**
 * An article's body: the HTML the API rendered from Markdown and sanitised (markdown-it +
 * nh3), sanitised once more here from an allow-list, so nothing inline reaches the CSP.
 */
export function ArticleBody({ html, className }: { html: string; className?: string }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.replaceChildren(sanitizeMailHtml(html));
  }, [html]);
  return <div ref={ref} className={className ?? "kb-prose"} data-testid="article-body" />;
}

const STATE_TONES = { draft: "neutral", in_review: "warning", published: "success", archived: "info" } as const;

export function StateBadge({ state }: { state: string }) {
  const tone = STATE_TONES[state as keyof typeof STATE_TONES] ?? "neutral";
  return <Badge tone={tone}>{stateLabel(state)}</Badge>;
}

export function AudienceBadge({ audience }: { audience: string }) {
  return audience === "internal" ? <Badge tone="internal">{t("kb.parts.internal")}</Badge> : <Badge tone="info">{t("kb.parts.public")}</Badge>;
}
