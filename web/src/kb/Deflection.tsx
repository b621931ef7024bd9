import { useEffect, useRef, useState } from "react";
import { Link } from "react-router";
import { Button, Spinner } from "../components/ui";
import { ErrorAlert } from "../tickets/Composer";
import { recordDeflection, useArticle, useKbSettings, useSuggestions } from "./api";
import { articlePath } from "./markdown";
import { useDebounced } from "../lib/useDebounced";
import { ArticleBody, Snippet } from "./parts";
import { t } from "../i18n/kb";

const MIN_CHARS = 3;

function count(body: Parameters<typeof recordDeflection>[0]) {
  // A lost count must not stand between the person and their request.
  recordDeflection(body).catch(() => undefined);
}

function OpenArticle({ id, onSolved, onClose }: { id: string; onSolved: () => void; onClose: () => void }) {
  const article = useArticle(id);
  if (article.isPending) return <Spinner label={t("kb.deflection.loadingTheArticle")} />;
  if (article.isError) return <ErrorAlert error={article.error} />;
  return (
    <div className="mt-2 rounded-md border border-border bg-bg p-3">
      {article.data.summary ? <p className="mb-2 font-medium">{article.data.summary}</p> : null}
      <ArticleBody html={article.data.html} />
      <div className="mt-3 flex flex-wrap gap-2">
        <Button variant="primary" size="sm" onClick={onSolved}>
          {t("kb.deflection.thisSolvedMyProblem")}
        </Button>
        <Button size="sm" onClick={onClose}>
          {t("kb.deflection.noContinueWithMy")}
        </Button>
        <Link to={articlePath(id)} target="_blank" rel="noopener" className="self-center text-accent-text underline">
          {t("kb.deflection.openInANew")}
        </Link>
      </div>
    </div>
  );
}

/**
 * Articles that may answer the request being written, as its subject is typed (debounced),
 * before anything is submitted. Shown, opened and "solved" are counted for the deflection
 * rate; "solved" ends the request without creating a ticket.
 */
export function Deflection({ title, onSolved }: { title: string; onSolved: (articleId: string) => void }) {
  const settled = useDebounced(title.trim(), 400);
  const settings = useKbSettings();
  const enabled = settled.length >= MIN_CHARS && settings.data?.deflection_enabled !== false;
  const suggestions = useSuggestions({ title: settled }, enabled);
  const [open, setOpen] = useState<string | null>(null);
  const counted = useRef(new Set<string>());
  const hits = enabled ? (suggestions.data?.items ?? []) : [];

  useEffect(() => {
    if (!hits.length || counted.current.has(settled)) return;
    counted.current.add(settled);
    count({ outcome: "shown", query: settled, article_ids: hits.map((hit) => hit.article_id) });
  }, [hits, settled]);

  if (!hits.length) return null;
  return (
    <section aria-labelledby="deflection-heading" className="rounded-md border border-info-subtle bg-info-subtle/40 p-3" data-testid="deflection">
      <h2 id="deflection-heading" className="font-semibold">
        {t("kb.deflection.theseArticlesMayAnswer")}
      </h2>
      <ul className="mt-2 space-y-2">
        {hits.map((hit) => (
          <li key={hit.article_id}>
            <button
              type="button"
              aria-expanded={open === hit.article_id}
              className="text-left font-semibold text-accent-text underline"
              onClick={() => {
                const next = open === hit.article_id ? null : hit.article_id;
                setOpen(next);
                if (next) count({ outcome: "opened", article_ids: [next], query: settled });
              }}
            >
              {hit.title}
            </button>
            {hit.snippet ? (
              <p className="text-fg-muted">
                <Snippet html={hit.snippet} />
              </p>
            ) : null}
            {open === hit.article_id ? (
              <OpenArticle
                id={hit.article_id}
                onClose={() => setOpen(null)}
                onSolved={() => {
                  count({ outcome: "solved", article_ids: [hit.article_id], query: settled });
                  onSolved(hit.article_id);
                }}
              />
            ) : null}
          </li>
        ))}
      </ul>
    </section>
  );
}
