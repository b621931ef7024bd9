import { useMemo } from "react";
import { Link, useSearchParams } from "react-router";
import { Button, EmptyState, PageHeader, Select, Spinner, cx } from "../components/ui";
import { formatDateTime } from "../lib/format";
import { ErrorAlert } from "../tickets/Composer";
import { useArticles, useKbCategories, type ArticleListQuery } from "./api";
import { AudienceBadge, StateBadge } from "./parts";
import { buildTree, flatten } from "./tree";
import { ARTICLE_STATES, STATE_LABELS, type ArticleState } from "./workflow";
import { t } from "../i18n/kb";

function isState(value: string | null): value is ArticleState {
  return value !== null && (ARTICLE_STATES as string[]).includes(value);
}

/** Staff: every article of the tenant, by state; `?state=in_review` is the review queue. */
export default function KbArticlesPage() {
  const [params, setParams] = useSearchParams();
  const stateParam = params.get("state");
  const state = isState(stateParam) ? stateParam : "";
  const categoryId = params.get("category") ?? "";
  const categories = useKbCategories();
  const options = useMemo(() => flatten(buildTree(categories.data ?? [])), [categories.data]);
  const query: ArticleListQuery = { ...(state ? { state: [state] } : {}), ...(categoryId ? { category_id: categoryId } : {}) };
  const articles = useArticles(query);
  const names = new Map((categories.data ?? []).map((c) => [c.id, c.name]));
  const set = (name: string, value: string) =>
    setParams((current) => {
      const out = new URLSearchParams(current);
      if (value) out.set(name, value);
      else out.delete(name);
      return out;
    });
  const review = state === "in_review";
  const items = articles.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <>
      <PageHeader
        title={review ? t("kb.articles.reviewQueue") : t("kb.articles.knowledgeBase")}
        actions={
          <>
            <Link to="/kb/categories" className="inline-flex h-10 items-center rounded-md border border-border-strong bg-surface px-4 font-medium hover:bg-surface-muted">
              {t("kb.articles.categories")}
            </Link>
            <Link to="/kb/articles/new" className="inline-flex h-10 items-center rounded-md bg-accent px-4 font-medium text-accent-fg hover:bg-accent-hover">
              {t("kb.articles.newArticle")}
            </Link>
          </>
        }
      >
        {review ? t("kb.articles.articlesWaitingForA") : t("kb.articles.articlesOfEveryState")}
      </PageHeader>
      <nav aria-label={t("kb.articles.articleViews")} className="mb-3 flex flex-wrap gap-1">
        {[{ value: "", label: t("kb.articles.all") }, ...ARTICLE_STATES.map((s) => ({ value: s, label: s === "in_review" ? t("kb.articles.reviewQueue") : STATE_LABELS[s] }))].map((tab) => (
          <Link
            key={tab.value || "all"}
            to={tab.value ? `/kb?state=${tab.value}` : "/kb"}
            aria-current={state === tab.value ? "page" : undefined}
            className={cx(
              "rounded-md px-3 py-1.5 font-medium",
              state === tab.value ? "bg-accent-subtle text-accent-text" : "text-fg hover:bg-surface-muted",
            )}
          >
            {tab.label}
          </Link>
        ))}
      </nav>
      <div className="mb-3 max-w-xs">
        <label htmlFor="kb-category-filter" className="mb-1 block font-medium">
          {t("kb.articles.category")}
        </label>
        <Select id="kb-category-filter" value={categoryId} onChange={(e) => set("category", e.target.value)}>
          <option value="">{t("kb.articles.everyCategory")}</option>
          {options.map((node) => (
            <option key={node.category.id} value={node.category.id}>
              {"\u00a0\u00a0".repeat(node.depth)}
              {node.category.name}
            </option>
          ))}
        </Select>
      </div>
      {articles.isPending ? <Spinner label={t("kb.articles.loadingArticles")} /> : null}
      {articles.isError ? <ErrorAlert error={articles.error} /> : null}
      {articles.isSuccess && !items.length ? (
        <EmptyState title={review ? t("kb.articles.nothingWaitingForReview") : t("kb.articles.noArticles")}>
          <Link to="/kb/articles/new" className="text-accent-text underline">{t("kb.articles.writeTheFirstOne")}</Link>
        </EmptyState>
      ) : null}
      {items.length ? (
        <div className="overflow-x-auto rounded-lg border border-border bg-surface">
          <table className="w-full text-left">
            <caption className="sr-only">{t("kb.articles.articles")}</caption>
            <thead className="border-b border-border text-fg-muted">
              <tr>
                <th scope="col" className="px-3 py-2">{t("kb.articles.title")}</th>
                <th scope="col" className="px-3 py-2">{t("kb.articles.state")}</th>
                <th scope="col" className="px-3 py-2">{t("kb.articles.audience")}</th>
                <th scope="col" className="px-3 py-2">{t("kb.articles.category")}</th>
                <th scope="col" className="px-3 py-2">{t("kb.articles.helpful")}</th>
                <th scope="col" className="px-3 py-2">{t("kb.articles.updated")}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((a) => (
                <tr key={a.id} className="border-b border-border last:border-0" data-testid="kb-article-row">
                  <td className="px-3 py-2">
                    <Link to={`/kb/articles/${a.id}`} className="font-semibold text-accent-text underline">
                      {a.title}
                    </Link>
                    {a.tags.length ? <span className="ml-2 text-xs text-fg-muted">{a.tags.join(", ")}</span> : null}
                  </td>
                  <td className="px-3 py-2"><StateBadge state={a.state} /></td>
                  <td className="px-3 py-2"><AudienceBadge audience={a.audience} /></td>
                  <td className="px-3 py-2">{a.category_id ? (names.get(a.category_id) ?? "—") : "—"}</td>
                  <td className="px-3 py-2">
                    <span aria-label={t("kb.articles.helpfulcountHelpfulNothelpfulcountNot", { helpfulcount: a.helpful_count, nothelpfulcount: a.not_helpful_count })}>
                      {a.helpful_count} / {a.not_helpful_count}
                    </span>
                  </td>
                  <td className="px-3 py-2 whitespace-nowrap">{formatDateTime(a.updated_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {articles.hasNextPage ? (
        <Button className="mt-3" busy={articles.isFetchingNextPage} onClick={() => void articles.fetchNextPage()}>
          {t("kb.articles.moreArticles")}
        </Button>
      ) : null}
    </>
  );
}
