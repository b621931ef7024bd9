import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { api, ok } from "../api/client";
import { describeError } from "../api/problem";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { Alert, Badge, Button, Card, EmptyState, Field, PageHeader, Select, Spinner } from "../components/ui";
import { treeLabel, useTicketTypes } from "../tickets/queries";
import { adminKeys, invalidateShared, useAdminTeams, useCategoryTree } from "./api";
import { ScrollArea } from "./fields";
import { FailureAlert } from "./forms";
import type { CategoryRow } from "./types";
import { t } from "../i18n/admin";

function fieldCount(schema: Record<string, unknown>): number {
  const properties = schema.properties;
  return typeof properties === "object" && properties !== null ? Object.keys(properties).length : 0;
}

/** The category and everything below it (the tree comes depth first). */
function subtree(rows: CategoryRow[], id: string): Set<string> {
  const out = new Set([id]);
  for (const c of rows) if (c.parent_id && out.has(c.parent_id)) out.add(c.id);
  return out;
}

function DeleteDialog({ category, rows, onClose }: { category: CategoryRow | null; rows: CategoryRow[]; onClose: () => void }) {
  const client = useQueryClient();
  const [target, setTarget] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const gone = category ? subtree(rows, category.id) : new Set<string>();
  const remove = useMutation({
    mutationFn: () =>
      ok(
        api.DELETE("/v1/categories/{category_id}", {
          params: { path: { category_id: category?.id ?? "" }, query: { reassign_to: target || null } },
        }),
      ),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: adminKeys.categories });
      invalidateShared(client, "categories");
      setTarget("");
      onClose();
    },
    onError: (error) => setProblem(describeError(error)),
  });
  return (
    <ConfirmDialog
      open={category !== null}
      title={t("admin.categories.deleteValueValue2", { value: category?.name ?? "", value2: gone.size > 1 ? ` and its ${gone.size - 1} sub-categories` : "" })}
      confirmLabel={t("admin.categories.delete")}
      busy={remove.isPending}
      onConfirm={() => {
        setProblem(null);
        remove.mutate();
      }}
      onClose={() => {
        setProblem(null);
        onClose();
      }}
    >
      <p>{t("admin.categories.theirTicketsMoveTo")}</p>
      <Field label={t("admin.categories.moveItsTicketsTo")} className="mt-3">
        {(p) => (
          <Select {...p} value={target} onChange={(e) => setTarget(e.target.value)}>
            <option value="">{t("admin.categories.noneOnlyIfNo")}</option>
            {rows
              .filter((c) => c.active && !gone.has(c.id))
              .map((c) => (
                <option key={c.id} value={c.id}>
                  {treeLabel(c)}
                </option>
              ))}
          </Select>
        )}
      </Field>
      {problem ? (
        <div className="mt-3">
          <Alert tone="danger">{problem}</Alert>
        </div>
      ) : null}
    </ConfirmDialog>
  );
}

export default function CategoriesPage() {
  const client = useQueryClient();
  const categories = useCategoryTree();
  const teams = useAdminTeams();
  const types = useTicketTypes();
  const [deleting, setDeleting] = useState<CategoryRow | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const teamName = (id: string | null) => (id ? (teams.data?.find((item) => item.id === id)?.name ?? "—") : "—");
  const typeName = (key: string | null | undefined) => (key ? (types.data?.find((item) => item.key === key)?.name ?? key) : "—");
  const refresh = () => {
    void client.invalidateQueries({ queryKey: adminKeys.categories });
    invalidateShared(client, "categories");
  };
  const action = useMutation({
    mutationFn: async (run: () => Promise<unknown>) => run(),
    onSuccess: () => {
      setProblem(null);
      refresh();
    },
    onError: (error) => setProblem(describeError(error)),
  });
  const rows = categories.data ?? [];

  function move(c: CategoryRow, by: -1 | 1) {
    const siblings = rows.filter((s) => (s.parent_id ?? null) === (c.parent_id ?? null));
    const at = siblings.findIndex((s) => s.id === c.id);
    const to = at + by;
    if (to < 0 || to >= siblings.length) return;
    const ids = siblings.map((s) => s.id);
    ids.splice(to, 0, ...ids.splice(at, 1));
    action.mutate(() => ok(api.PUT("/v1/categories/order", { body: { parent_id: c.parent_id ?? null, ids } })));
  }
  function archive(c: CategoryRow) {
    const path = { category_id: c.id };
    action.mutate(() =>
      c.active
        ? ok(api.POST("/v1/categories/{category_id}/archive", { params: { path } }))
        : ok(api.POST("/v1/categories/{category_id}/unarchive", { params: { path } })),
    );
  }

  return (
    <>
      <PageHeader
        title={t("admin.categories.categories")}
        actions={
          <Link to="/admin/categories/new" className="inline-flex h-10 items-center rounded-md bg-accent px-4 font-medium text-accent-fg hover:bg-accent-hover">
            {t("admin.categories.newCategory")}
          </Link>
        }
      >
        {t("admin.categories.whatEmployeesCanAsk")}
      </PageHeader>
      {problem ? (
        <div className="mb-3">
          <Alert tone="danger">{problem}</Alert>
        </div>
      ) : null}
      <Card>
        {categories.isPending ? <Spinner label={t("admin.categories.loadingCategories")} /> : null}
        {categories.isError ? <FailureAlert error={categories.error} /> : null}
        {categories.data && !categories.data.length ? <EmptyState title={t("admin.categories.noCategoriesYet")}>{t("admin.categories.createTheFirstOne")}</EmptyState> : null}
        {rows.length ? (
          <ScrollArea label={t("admin.categories.categoriesTable")}>
            <table className="w-full text-left">
              <caption className="sr-only">{t("admin.categories.categories")}</caption>
              <thead className="border-b border-border text-fg-muted">
                <tr>
                  <th scope="col" className="px-2 py-2 font-medium">{t("admin.categories.name")}</th>
                  <th scope="col" className="px-2 py-2 font-medium">{t("admin.categories.customFields")}</th>
                  <th scope="col" className="px-2 py-2 font-medium">{t("admin.categories.defaultTeam")}</th>
                  <th scope="col" className="px-2 py-2 font-medium">{t("admin.categories.defaultType")}</th>
                  <th scope="col" className="px-2 py-2 font-medium">{t("admin.categories.state")}</th>
                  <th scope="col" className="px-2 py-2 font-medium">{t("admin.categories.actions")}</th>
                </tr>
              </thead>
              <tbody data-testid="category-rows">
                {rows.map((c) => {
                  const siblings = rows.filter((s) => (s.parent_id ?? null) === (c.parent_id ?? null));
                  const at = siblings.findIndex((s) => s.id === c.id);
                  return (
                    <tr key={c.id} className="border-b border-border last:border-0" data-depth={c.depth ?? 0}>
                      <td className="px-2 py-2" style={{ paddingInlineStart: `${0.5 + (c.depth ?? 0) * 1.5}rem` }}>
                        <Link to={`/admin/categories/${c.id}`} className="font-medium text-accent-text underline">
                          {c.name}
                        </Link>
                        {c.description ? <span className="block text-fg-muted">{c.description}</span> : null}
                      </td>
                      <td className="px-2 py-2">{fieldCount(c.fields_schema)}</td>
                      <td className="px-2 py-2">{teamName(c.default_team_id)}</td>
                      <td className="px-2 py-2">{typeName(c.default_type)}</td>
                      <td className="px-2 py-2">{c.active ? <Badge tone="success">{t("admin.categories.active")}</Badge> : <Badge>{t("admin.categories.archived")}</Badge>}</td>
                      <td className="px-2 py-2">
                        <div className="flex flex-wrap gap-1">
                          <Button size="sm" variant="ghost" aria-label={t("admin.categories.moveNameUp", { name: c.name })} disabled={at <= 0} onClick={() => move(c, -1)}>
                            ↑
                          </Button>
                          <Button size="sm" variant="ghost" aria-label={t("admin.categories.moveNameDown", { name: c.name })} disabled={at >= siblings.length - 1} onClick={() => move(c, 1)}>
                            ↓
                          </Button>
                          <Button size="sm" onClick={() => archive(c)}>
                            {c.active ? t("admin.categories.archive") : t("admin.categories.restore")}
                            <span className="sr-only"> {c.name}</span>
                          </Button>
                          <Button size="sm" variant="danger" onClick={() => setDeleting(c)}>
                            {t("admin.categories.delete")}<span className="sr-only"> {c.name}</span>
                          </Button>
                        </div>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </ScrollArea>
        ) : null}
      </Card>
      <DeleteDialog category={deleting} rows={rows} onClose={() => setDeleting(null)} />
    </>
  );
}
