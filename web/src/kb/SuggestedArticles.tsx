import { useState } from "react";
import { Link } from "react-router";
import { Button, Card, Spinner } from "../components/ui";
import { ErrorAlert, insertIntoReply } from "../tickets/Composer";
import { useSuggestions } from "./api";
import { articlePath, markdownLink } from "./markdown";
import { Snippet } from "./parts";
import { t } from "../i18n/kb";

/** The agent's side panel: articles that may answer the open ticket, each with a link
 * that goes into the reply to the requester. */
export function SuggestedArticles({ ticketId }: { ticketId: string }) {
  const suggestions = useSuggestions({ ticket_id: ticketId });
  const [inserted, setInserted] = useState<string | null>(null);
  return (
    <Card aria-labelledby="suggested-heading" data-testid="suggested-articles">
      <h2 id="suggested-heading" className="mb-2 font-semibold">
        {t("kb.suggestedArticles.suggestedArticles")}
      </h2>
      {suggestions.isPending ? <Spinner label={t("kb.suggestedArticles.findingArticles")} /> : null}
      {suggestions.isError ? <ErrorAlert error={suggestions.error} /> : null}
      {suggestions.isSuccess && !suggestions.data.items.length ? (
        <p className="text-fg-muted">
          {t("kb.suggestedArticles.noArticleMatchesThis")}{" "}<Link to="/kb/articles/new" className="text-accent-text underline">{t("kb.suggestedArticles.writeOne")}</Link>
        </p>
      ) : null}
      {suggestions.isSuccess && suggestions.data.items.length ? (
        <ul className="space-y-3">
          {suggestions.data.items.map((hit) => (
            <li key={hit.article_id}>
              <Link to={articlePath(hit.article_id)} target="_blank" rel="noopener" className="font-semibold text-accent-text underline">
                {hit.title}
              </Link>
              {hit.snippet ? (
                <p className="text-fg-muted">
                  <Snippet html={hit.snippet} />
                </p>
              ) : null}
              <Button
                size="sm"
                className="mt-1"
                aria-label={t("kb.suggestedArticles.insertLinkIntoReply", { title: hit.title })}
                disabled={hit.audience === "internal"}
                title={hit.audience === "internal" ? t("kb.suggestedArticles.internalArticlesCannotBe") : undefined}
                onClick={() => {
                  insertIntoReply(ticketId, markdownLink(hit.title, new URL(articlePath(hit.article_id), window.location.origin).href));
                  setInserted(hit.title);
                }}
              >
                {t("kb.suggestedArticles.insertLinkIntoReply2")}
              </Button>
            </li>
          ))}
        </ul>
      ) : null}
      <p role="status" className="mt-2 text-fg-muted">
        {inserted ? t("kb.suggestedArticles.linkToInsertedAdded", { inserted }) : ""}
      </p>
    </Card>
  );
}
