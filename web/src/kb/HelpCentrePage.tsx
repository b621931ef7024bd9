import { useEffect, useId, useMemo, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { Alert, Card, EmptyState, Input, PageHeader, Spinner, cx } from "../components/ui";
import { formatDateTime } from "../lib/format";
import { ErrorAlert } from "../tickets/Composer";
import { useArticles, useKbCategories, useSearch, type KbCategory } from "./api";
import { articlePath } from "./markdown";
import { useDebounced } from "../lib/useDebounced";
import { Snippet } from "./parts";
import { ancestry, buildTree, type CategoryNode } from "./tree";
import { plural, t } from "../i18n/kb";

function CategoryTree({ nodes, current }: { nodes: CategoryNode<KbCategory>[]; current: string }) {
  if (!nodes.length) return null;
  return (
    <ul className="space-y-0.5">
      {nodes.map((node) => (
        <li key={node.category.id}>
          <Link
            to={`/help?category=${node.category.id}`}
            aria-current={node.category.id === current ? "page" : undefined}
            className={cx(
              "block rounded-md px-2 py-1.5",
              node.category.id === current ? "bg-accent-subtle font-semibold text-accent-text" : "text-fg hover:bg-surface-muted",
            )}
          >
            {node.category.name}
          </Link>
          {node.children.length ? (
            <div className="ml-3 border-l border-border pl-2">
              <CategoryTree nodes={node.children} current={current} />
            </div>
          ) : null}
        </li>
      ))}
    </ul>
  );
}

function SearchResults({ q, categoryId }: { q: string; categoryId: string }) {
  const search = useSearch(q, categoryId);
  if (search.isPending) return <Spinner label={t("kb.helpCentre.searching")} />;
  if (search.isError) return <ErrorAlert error={search.error} />;
  const hits = search.data.items;
  return (
    <section aria-labelledby="results-heading" aria-busy={search.isFetching || undefined}>
      <h2 id="results-heading" className="mb-2 text-base font-semibold">
        {hits.length ? plural(hits.length, { one: "kb.helpCentre.results.one", other: "kb.helpCentre.results.other" }, { q }) : t("kb.helpCentre.nothingFoundForQ", { q })}
      </h2>
      {search.data.degraded ? (
        <p className="mb-2 text-fg-muted">{t("kb.helpCentre.showingKeywordMatchesOnly")}</p>
      ) : null}
      {hits.length ? (
        <ol className="space-y-3" aria-label={t("kb.helpCentre.searchResults")}>
          {hits.map((hit) => (
            <li key={hit.article_id} className="rounded-md border border-border bg-surface p-3">
              <Link to={articlePath(hit.article_id)} className="font-semibold text-accent-text underline">
                {hit.title}
              </Link>
              {hit.snippet ? (
                <p className="mt-1 text-fg">
                  <Snippet html={hit.snippet} />
                </p>
              ) : hit.summary ? (
                <p className="mt-1 text-fg-muted">{hit.summary}</p>
              ) : null}
            </li>
          ))}
        </ol>
      ) : (
        <p className="text-fg-muted">
          {t("kb.helpCentre.tryOtherWordsOr")}{" "}<Link to="/requests/new" className="text-accent-text underline">{t("kb.helpCentre.askUsInA")}</Link>.
        </p>
      )}
    </section>
  );
}

function ArticleList({ categoryId, heading }: { categoryId: string; heading: string }) {
  const articles = useArticles({ state: ["published"], ...(categoryId ? { category_id: categoryId } : {}) });
  if (articles.isPending) return <Spinner label={t("kb.helpCentre.loadingArticles")} />;
  if (articles.isError) return <ErrorAlert error={articles.error} />;
  const items = articles.data.pages.flatMap((page) => page.items);
  return (
    <section aria-labelledby="articles-heading">
      <h2 id="articles-heading" className="mb-2 text-base font-semibold">
        {heading}
      </h2>
      {items.length ? (
        <ul className="divide-y divide-border rounded-md border border-border bg-surface" aria-label={t("kb.helpCentre.articles")}>
          {items.map((article) => (
            <li key={article.id} className="p-3">
              <Link to={articlePath(article.id)} className="font-semibold text-accent-text underline">
                {article.title}
              </Link>
              {article.summary ? <p className="mt-1 text-fg-muted">{article.summary}</p> : null}
              <p className="mt-1 text-xs text-fg-muted">{t("kb.helpCentre.updatedWhen", { when: formatDateTime(article.updated_at) })}</p>
            </li>
          ))}
        </ul>
      ) : (
        <EmptyState title={t("kb.helpCentre.noArticlesHereYet")} />
      )}
      {articles.hasNextPage ? (
        <button
          type="button"
          className="mt-3 text-accent-text underline"
          onClick={() => void articles.fetchNextPage()}
          disabled={articles.isFetchingNextPage}
        >
          {t("kb.helpCentre.moreArticles")}
        </button>
      ) : null}
    </section>
  );
}

export default function HelpCentrePage() {
  const [params, setParams] = useSearchParams();
  const q = params.get("q") ?? "";
  const categoryId = params.get("category") ?? "";
  const [typed, setTyped] = useState(q);
  const settled = useDebounced(typed, 300);
  const searchId = useId();
  const categories = useKbCategories();
  const tree = useMemo(() => buildTree(categories.data ?? []), [categories.data]);
  const crumbs = ancestry(categories.data ?? [], categoryId);

  // The query lives in the address, so a search can be shared and Back returns to it.
  useEffect(() => {
    const next = settled.trim();
    if (next === q) return;
    setParams(
      (current) => {
        const out = new URLSearchParams(current);
        if (next) out.set("q", next);
        else out.delete("q");
        return out;
      },
      { replace: true },
    );
  }, [settled, q, setParams]);

  return (
    <>
      <PageHeader title={t("kb.helpCentre.helpCentre")}>{t("kb.helpCentre.answersToCommonQuestions")}</PageHeader>
      <form
        role="search"
        className="mb-6 max-w-2xl"
        onSubmit={(e) => {
          e.preventDefault();
          setParams((current) => {
            const out = new URLSearchParams(current);
            if (typed.trim()) out.set("q", typed.trim());
            else out.delete("q");
            return out;
          });
        }}
      >
        <label htmlFor={searchId} className="mb-1 block font-medium">
          {t("kb.helpCentre.searchTheHelpCentre")}
        </label>
        <Input
          id={searchId}
          type="search"
          value={typed}
          maxLength={200}
          placeholder={t("kb.helpCentre.eGVpnWill")}
          onChange={(e) => setTyped(e.target.value)}
        />
      </form>
      <div className="grid gap-6 md:grid-cols-[16rem_1fr]">
        <Card as="aside" aria-label={t("kb.helpCentre.categories")} className="h-fit">
          <h2 className="mb-2 font-semibold">{t("kb.helpCentre.categories")}</h2>
          {categories.isPending ? <Spinner label={t("kb.helpCentre.loadingCategories")} /> : null}
          {categories.isError ? <ErrorAlert error={categories.error} /> : null}
          <nav aria-label={t("kb.helpCentre.helpCentreCategories")}>
            <Link
              to="/help"
              aria-current={!categoryId ? "page" : undefined}
              className={cx("block rounded-md px-2 py-1.5", !categoryId ? "bg-accent-subtle font-semibold text-accent-text" : "hover:bg-surface-muted")}
            >
              {t("kb.helpCentre.allArticles")}
            </Link>
            <CategoryTree nodes={tree} current={categoryId} />
          </nav>
        </Card>
        <div className="min-w-0 space-y-4">
          {crumbs.length ? (
            <nav aria-label={t("kb.helpCentre.breadcrumb")}>
              <ol className="flex flex-wrap gap-1 text-fg-muted">
                <li>
                  <Link to="/help" className="underline">{t("kb.helpCentre.helpCentre")}</Link>
                </li>
                {crumbs.map((c) => (
                  <li key={c.id}>
                    <span aria-hidden="true">› </span>
                    <Link to={`/help?category=${c.id}`} className="underline" aria-current={c.id === categoryId ? "page" : undefined}>
                      {c.name}
                    </Link>
                  </li>
                ))}
              </ol>
            </nav>
          ) : null}
          {categoryId && categories.isSuccess && !crumbs.length ? (
            <Alert tone="warning">{t("kb.helpCentre.thisCategoryDoesNot")}</Alert>
          ) : null}
          {q ? (
            <SearchResults q={q} categoryId={categoryId} />
          ) : (
            <ArticleList categoryId={categoryId} heading={crumbs.at(-1)?.name ?? t("kb.helpCentre.latestArticles")} />
          )}
        </div>
      </div>
    </>
  );
}
