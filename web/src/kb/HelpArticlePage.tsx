import { useState } from "react";
import { Link, useParams } from "react-router";
import { ApiError, describeError } from "../api/problem";
import { useMe } from "../auth/AuthProvider";
import { Alert, Button, Card, Spinner } from "../components/ui";
import { isStaff } from "../lib/domain";
import { formatDateTime } from "../lib/format";
import { ErrorAlert } from "../tickets/Composer";
import { useArticle, useKbCategories, useVote, type Article } from "./api";
import { ArticleBody, AudienceBadge } from "./parts";
import { ancestry } from "./tree";
import { t } from "../i18n/kb";

/** Was this helpful? One vote per person per article; asking again changes it. */
export function Vote({ article }: { article: Article }) {
  const vote = useVote(article.id);
  const [given, setGiven] = useState<boolean | null>(article.my_vote ?? null);
  return (
    <section aria-labelledby="vote-heading" className="mt-6 border-t border-border pt-4">
      <h2 id="vote-heading" className="font-semibold">
        {t("kb.helpArticle.wasThisArticleHelpful")}
      </h2>
      <div className="mt-2 flex flex-wrap items-center gap-2">
        <Button
          size="sm"
          aria-pressed={given === true}
          busy={vote.isPending && vote.variables === true}
          onClick={() => vote.mutate(true, { onSuccess: () => setGiven(true) })}
        >
          {t("kb.helpArticle.yes")}
        </Button>
        <Button
          size="sm"
          aria-pressed={given === false}
          busy={vote.isPending && vote.variables === false}
          onClick={() => vote.mutate(false, { onSuccess: () => setGiven(false) })}
        >
          {t("kb.helpArticle.no")}
        </Button>
        <span role="status" className="text-fg-muted">
          {given === true ? t("kb.helpArticle.thanksForLettingUs") : null}
          {given === false ? (
            <>
              {t("kb.helpArticle.sorryAboutThat")}{" "}<Link to="/requests/new" className="text-accent-text underline">{t("kb.helpArticle.askUsInA")}</Link>.
            </>
          ) : null}
        </span>
      </div>
      {vote.isError ? <p className="mt-2 text-danger-text">{describeError(vote.error)}</p> : null}
    </section>
  );
}

export default function HelpArticlePage() {
  const { articleId = "" } = useParams();
  const article = useArticle(articleId);
  const categories = useKbCategories();
  const staff = isStaff(useMe().role);

  if (article.isPending) return <Spinner label={t("kb.helpArticle.loadingTheArticle")} />;
  if (article.isError) {
    return article.error instanceof ApiError && article.error.status === 404 ? (
      <Alert tone="warning" title={t("kb.helpArticle.articleNotFound")}>
        {t("kb.helpArticle.itDoesNotExist")}{" "}<Link className="underline" to="/help">{t("kb.helpArticle.backToTheHelp")}</Link>
      </Alert>
    ) : (
      <ErrorAlert error={article.error} />
    );
  }
  const a = article.data;
  const crumbs = ancestry(categories.data ?? [], a.category_id);
  return (
    <>
      <nav aria-label={t("kb.helpArticle.breadcrumb")} className="mb-3">
        <ol className="flex flex-wrap gap-1 text-fg-muted">
          <li>
            <Link to="/help" className="underline">{t("kb.helpArticle.helpCentre")}</Link>
          </li>
          {crumbs.map((c) => (
            <li key={c.id}>
              <span aria-hidden="true">› </span>
              <Link to={`/help?category=${c.id}`} className="underline">
                {c.name}
              </Link>
            </li>
          ))}
        </ol>
      </nav>
      <Card as="article" className="max-w-3xl" aria-labelledby="article-title">
        <h1 id="article-title" className="text-xl font-semibold">
          {a.title}
        </h1>
        <p className="mt-1 flex flex-wrap items-center gap-2 text-fg-muted">
          <span>{t("kb.helpArticle.updatedWhen", { when: formatDateTime(a.published_at ?? a.updated_at) })}</span>
          {staff ? <AudienceBadge audience={a.audience} /> : null}
          {staff ? (
            <Link to={`/kb/articles/${a.id}`} className="text-accent-text underline">
              {t("kb.helpArticle.editInTheKnowledge")}
            </Link>
          ) : null}
        </p>
        {a.summary ? <p className="mt-3 text-base text-fg">{a.summary}</p> : null}
        <ArticleBody html={a.html} className="kb-prose mt-4" />
        <Vote article={a} />
      </Card>
    </>
  );
}
