import { useQueryClient } from "@tanstack/react-query";
import { useMemo, useState, type FormEvent } from "react";
import { Link } from "react-router";
import { ApiError, describeError } from "../api/problem";
import { useMe } from "../auth/AuthProvider";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { Alert, Button, Card, EmptyState, Field, Input, PageHeader, Select, Spinner } from "../components/ui";
import { atLeast } from "../lib/domain";
import { ErrorAlert } from "../tickets/Composer";
import { createCategory, deleteCategory, kbKeys, updateCategory, useKbCategories, type KbCategory } from "./api";
import { buildTree, flatten } from "./tree";
import { t } from "../i18n/kb";

function AddCategory({ categories }: { categories: KbCategory[] }) {
  const client = useQueryClient();
  const options = useMemo(() => flatten(buildTree(categories)), [categories]);
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [parent, setParent] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!name.trim()) {
      setErrors({ name: t("kb.categories.giveTheCategoryName") });
      return;
    }
    setBusy(true);
    setErrors({});
    setFailure(null);
    try {
      const siblings = categories.filter((c) => (c.parent_id ?? "") === parent);
      const position = siblings.reduce((max, c) => Math.max(max, c.position + 1), 0);
      await createCategory({ name: name.trim(), description: description.trim(), parent_id: parent || null, position });
      setName("");
      setDescription("");
      void client.invalidateQueries({ queryKey: kbKeys.categories });
    } catch (error) {
      if (error instanceof ApiError) setErrors(error.fieldErrors);
      setFailure(describeError(error));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} noValidate className="space-y-3">
      <h2 className="font-semibold">{t("kb.categories.addACategory")}</h2>
      {failure ? <Alert tone="danger">{failure}</Alert> : null}
      <Field label={t("kb.categories.name")} required error={errors.name}>
        {(p) => <Input {...p} maxLength={120} value={name} onChange={(e) => setName(e.target.value)} />}
      </Field>
      <Field label={t("kb.categories.description")} error={errors.description}>
        {(p) => <Input {...p} maxLength={1000} value={description} onChange={(e) => setDescription(e.target.value)} />}
      </Field>
      <Field label={t("kb.categories.inside")} error={errors.parent_id}>
        {(p) => (
          <Select {...p} value={parent} onChange={(e) => setParent(e.target.value)}>
            <option value="">{t("kb.categories.topLevel")}</option>
            {options.map((node) => (
              <option key={node.category.id} value={node.category.id}>
                {"\u00a0\u00a0".repeat(node.depth)}
                {node.category.name}
              </option>
            ))}
          </Select>
        )}
      </Field>
      <Button type="submit" variant="primary" busy={busy}>
        {t("kb.categories.addCategory")}
      </Button>
    </form>
  );
}

function CategoryRow({ category, depth, manager }: { category: KbCategory; depth: number; manager: boolean }) {
  const client = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(category.name);
  const [error, setError] = useState<string | null>(null);
  const [confirm, setConfirm] = useState(false);
  const [busy, setBusy] = useState(false);

  async function rename(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await updateCategory(category.id, category.version, { name: name.trim() });
      setEditing(false);
    } catch (e) {
      setError(e instanceof ApiError ? (e.fieldErrors.name ?? describeError(e)) : describeError(e));
    } finally {
      setBusy(false);
      void client.invalidateQueries({ queryKey: kbKeys.categories });
    }
  }

  async function remove() {
    setBusy(true);
    setError(null);
    try {
      await deleteCategory(category.id);
      void client.invalidateQueries({ queryKey: kbKeys.categories });
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
      setConfirm(false);
    }
  }

  return (
    <li className="py-2" data-testid="kb-category-row">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <span className={depth ? "text-fg" : "font-semibold"}>
          <span aria-hidden="true" className="text-fg-muted">
            {"— ".repeat(depth)}
          </span>
          {editing ? (
            <form onSubmit={rename} className="inline-flex items-center gap-2">
              <label className="sr-only" htmlFor={`rename-${category.id}`}>{t("kb.categories.newNameForName", { name: category.name })}</label>
              <Input id={`rename-${category.id}`} className="h-8 w-56" maxLength={120} value={name} onChange={(e) => setName(e.target.value)} />
              <Button size="sm" type="submit" busy={busy}>
                {t("kb.categories.save")}
              </Button>
              <Button size="sm" variant="ghost" onClick={() => setEditing(false)}>
                {t("kb.categories.cancel")}
              </Button>
            </form>
          ) : (
            <Link to={`/kb?category=${category.id}`} className="underline">
              {category.name}
            </Link>
          )}
          {category.description && !editing ? <span className="ml-2 text-fg-muted">{category.description}</span> : null}
        </span>
        {manager && !editing ? (
          <span className="flex gap-1">
            <Button size="sm" variant="ghost" aria-label={t("kb.categories.renameName", { name: category.name })} onClick={() => setEditing(true)}>
              {t("kb.categories.rename")}
            </Button>
            <Button size="sm" variant="ghost" aria-label={t("kb.categories.deleteName", { name: category.name })} onClick={() => setConfirm(true)}>
              {t("kb.categories.delete")}
            </Button>
          </span>
        ) : null}
      </div>
      {error ? <p className="mt-1 text-danger-text">{error}</p> : null}
      <ConfirmDialog
        open={confirm}
        title={t("kb.categories.deleteName2", { name: category.name })}
        confirmLabel={t("kb.categories.deleteCategory")}
        busy={busy}
        onConfirm={() => void remove()}
        onClose={() => setConfirm(false)}
      >
        {t("kb.categories.onlyAnEmptyCategory")}
      </ConfirmDialog>
    </li>
  );
}

/** The help centre's category tree; managers and admins change it. */
export default function KbCategoriesPage() {
  const categories = useKbCategories();
  const manager = atLeast(useMe().role, "manager");
  const nodes = useMemo(() => flatten(buildTree(categories.data ?? [])), [categories.data]);
  return (
    <>
      <p className="mb-2">
        <Link to="/kb" className="text-accent-text underline">{t("kb.categories.knowledgeBase")}</Link>
      </p>
      <PageHeader title={t("kb.categories.knowledgeBaseCategories")}>{t("kb.categories.howTheHelpCentre")}</PageHeader>
      <div className="grid gap-6 lg:grid-cols-[1fr_22rem]">
        <Card aria-label={t("kb.categories.categories")}>
          {categories.isPending ? <Spinner label={t("kb.categories.loadingCategories")} /> : null}
          {categories.isError ? <ErrorAlert error={categories.error} /> : null}
          {categories.isSuccess && !nodes.length ? <EmptyState title={t("kb.categories.noCategoriesYet")} /> : null}
          {nodes.length ? (
            <ul className="divide-y divide-border">
              {nodes.map((node) => (
                <CategoryRow key={node.category.id} category={node.category} depth={node.depth} manager={manager} />
              ))}
            </ul>
          ) : null}
        </Card>
        {manager && categories.isSuccess ? (
          <Card>
            <AddCategory categories={categories.data} />
          </Card>
        ) : null}
      </div>
    </>
  );
}
