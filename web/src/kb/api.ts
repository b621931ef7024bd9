import { keepPreviousData, useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, etag, idempotencyKey, ok } from "../api/client";
import type { components, paths } from "../api/schema";
import type { ArticleAction } from "./workflow";

type Schemas = components["schemas"];
export type Article = Schemas["ArticlePublic"];
export type ArticleSummary = Schemas["ArticleSummary"];
export type ArticleCreate = Schemas["ArticleCreate"];
export type ArticleUpdate = Schemas["ArticleUpdate"];
export type KbCategory = Schemas["KbCategoryPublic"];
export type ArticleVersion = Schemas["VersionSummary"];
export type SearchHit = Schemas["SearchHitPublic"];
export type ArticleListQuery = NonNullable<paths["/v1/kb/articles"]["get"]["parameters"]["query"]>;

export const kbKeys = {
  all: ["kb"] as const,
  categories: ["kb", "categories"] as const,
  articles: (query: ArticleListQuery) => ["kb", "articles", "list", query] as const,
  article: (id: string) => ["kb", "articles", id] as const,
  versions: (id: string) => ["kb", "articles", id, "versions"] as const,
  diff: (id: string, a: number, b: number) => ["kb", "articles", id, "diff", a, b] as const,
  search: (q: string, categoryId: string) => ["kb", "search", q, categoryId] as const,
  suggestions: (by: { title?: string; ticket_id?: string }) => ["kb", "suggestions", by] as const,
  settings: ["kb", "settings"] as const,
};

export function useKbCategories() {
  return useQuery({
    queryKey: kbKeys.categories,
    staleTime: 60_000,
    queryFn: async ({ signal }) => {
      // The whole tree, page after page (a help centre has tens, not thousands).
      const all: KbCategory[] = [];
      let cursor: string | null = null;
      do {
        const page: { items: KbCategory[]; next_cursor?: string | null } = await ok(
          api.GET("/v1/kb/categories", { params: { query: { limit: 100, cursor } }, signal }),
        );
        all.push(...page.items);
        cursor = page.next_cursor ?? null;
      } while (cursor && all.length < 2000);
      return all;
    },
  });
}

export function useArticles(query: ArticleListQuery, enabled = true) {
  return useInfiniteQuery({
    queryKey: kbKeys.articles(query),
    enabled,
    queryFn: ({ pageParam, signal }) =>
      ok(api.GET("/v1/kb/articles", { params: { query: { limit: 50, ...query, cursor: pageParam ?? null } }, signal })),
    initialPageParam: null as string | null,
    getNextPageParam: (page) => page.next_cursor ?? null,
  });
}

export function useArticle(id: string) {
  return useQuery({
    queryKey: kbKeys.article(id),
    queryFn: ({ signal }) => ok(api.GET("/v1/kb/articles/{article_id}", { params: { path: { article_id: id } }, signal })),
  });
}

export function useKbSettings() {
  return useQuery({
    queryKey: kbKeys.settings,
    staleTime: 5 * 60_000,
    queryFn: ({ signal }) => ok(api.GET("/v1/settings/kb", { signal })),
  });
}

/** Keyword + semantic search with highlights; an empty query asks nothing. */
export function useSearch(q: string, categoryId = "") {
  const query = q.trim();
  return useQuery({
    queryKey: kbKeys.search(query, categoryId),
    enabled: query.length > 0,
    placeholderData: keepPreviousData,
    queryFn: ({ signal }) =>
      ok(
        api.GET("/v1/kb/search", {
          params: { query: { q: query, limit: 20, ...(categoryId ? { category_id: categoryId } : {}) } },
          signal,
        }),
      ),
  });
}

/** Articles that may answer a request being written (by its title) or a ticket (staff). */
export function useSuggestions(by: { title?: string; ticket_id?: string }, enabled = true) {
  return useQuery({
    queryKey: kbKeys.suggestions(by),
    enabled,
    placeholderData: keepPreviousData,
    staleTime: 30_000,
    queryFn: ({ signal }) => ok(api.GET("/v1/kb/suggestions", { params: { query: by }, signal })),
  });
}

export type DeflectionOutcome = "shown" | "opened" | "solved";

/** Counted for the deflection rate: the articles shown for a query, or the one opened or
 * that solved it. */
export function recordDeflection(body: { outcome: DeflectionOutcome; article_ids: string[]; query: string }) {
  return ok(api.POST("/v1/kb/deflections", { body }));
}

export function useVote(articleId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (helpful: boolean) =>
      ok(api.POST("/v1/kb/articles/{article_id}/feedback", { params: { path: { article_id: articleId } }, body: { helpful, comment: "" } })),
    onSuccess: () => void client.invalidateQueries({ queryKey: kbKeys.article(articleId) }),
  });
}

export function createArticle(body: ArticleCreate, key = idempotencyKey()) {
  return ok(api.POST("/v1/kb/articles", { body, params: { header: { "Idempotency-Key": key } } }));
}

export function updateArticle(id: string, version: number, body: ArticleUpdate) {
  return ok(
    api.PATCH("/v1/kb/articles/{article_id}", {
      params: { path: { article_id: id }, header: { "If-Match": etag(version) } },
      body,
    }),
  );
}

export function deleteArticle(id: string) {
  return ok(api.DELETE("/v1/kb/articles/{article_id}", { params: { path: { article_id: id } } }));
}

/** One workflow step; `reason` only for reject. */
export function transition(id: string, action: ArticleAction, version: number, reason?: string) {
  const params = { path: { article_id: id }, header: { "If-Match": etag(version) } };
  switch (action) {
    case "submit":
      return ok(api.POST("/v1/kb/articles/{article_id}/submit", { params, body: { note: "" } }));
    case "publish":
      return ok(api.POST("/v1/kb/articles/{article_id}/publish", { params, body: { note: "" } }));
    case "reject":
      return ok(api.POST("/v1/kb/articles/{article_id}/reject", { params, body: { reason: reason ?? "", note: "" } }));
    case "archive":
      return ok(api.POST("/v1/kb/articles/{article_id}/archive", { params, body: { note: "" } }));
    case "restore":
      return ok(api.POST("/v1/kb/articles/{article_id}/restore", { params, body: { note: "" } }));
  }
}

export function useVersions(id: string) {
  return useQuery({
    queryKey: kbKeys.versions(id),
    queryFn: ({ signal }) =>
      ok(api.GET("/v1/kb/articles/{article_id}/versions", { params: { path: { article_id: id } }, signal })),
    select: (page): ArticleVersion[] => page.items,
  });
}

export function useDiff(id: string, a: number, b: number, enabled: boolean) {
  return useQuery({
    queryKey: kbKeys.diff(id, a, b),
    enabled,
    queryFn: ({ signal }) =>
      ok(
        api.GET("/v1/kb/articles/{article_id}/versions/{a}/diff/{b}", {
          params: { path: { article_id: id, a, b } },
          signal,
        }),
      ),
  });
}

export function restoreVersion(id: string, number: number, version: number) {
  return ok(
    api.POST("/v1/kb/articles/{article_id}/versions/{number}/restore", {
      params: { path: { article_id: id, number }, header: { "If-Match": etag(version) } },
      body: { note: "" },
    }),
  );
}

export function createCategory(body: Schemas["KbCategoryCreate"]) {
  return ok(api.POST("/v1/kb/categories", { body }));
}

export function updateCategory(id: string, version: number, body: Schemas["KbCategoryUpdate"]) {
  return ok(
    api.PATCH("/v1/kb/categories/{category_id}", {
      params: { path: { category_id: id }, header: { "If-Match": etag(version) } },
      body,
    }),
  );
}

export function deleteCategory(id: string) {
  return ok(api.DELETE("/v1/kb/categories/{category_id}", { params: { path: { category_id: id } } }));
}
