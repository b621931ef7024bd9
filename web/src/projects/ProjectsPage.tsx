import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate } from "react-router";
import { ApiError, describeError } from "../api/problem";
import { useMe } from "../auth/AuthProvider";
import { Choice, entries, onSubmit } from "../changes/parts";
import { Alert, Badge, Button, Card, EmptyState, Field, Input, PageHeader, Spinner, Textarea } from "../components/ui";
import { can } from "../lib/domain";
import { t } from "../i18n/projects";
import { create, paths, projectKeys, STATUS_LABELS, useProjects, type Project, type ProjectFilters } from "./api";

const KEY = /^[A-Z][A-Z0-9]{1,9}$/;

/** Projects the caller may see (members; every project with `project:read_all`), filtered
 * by words, status and archived; "New project" for those who may create one. */
export default function ProjectsPage() {
  const me = useMe();
  const [filters, setFilters] = useState<ProjectFilters>({ q: "", status: "", archived: false });
  const [adding, setAdding] = useState(false);
  const projects = useProjects(filters);
  const set = (patch: Partial<ProjectFilters>) => setFilters((now) => ({ ...now, ...patch }));
  const rows = projects.data ?? [];
  return (
    <>
      <PageHeader
        title={t("projects.title")}
        actions={
          <div className="flex flex-wrap gap-2">
            <Link to="/projects/my-tasks" className="inline-flex h-10 items-center rounded-md border border-border px-4 font-medium text-fg">
              {t("projects.myTasks")}
            </Link>
            {can(me, "project:create") ? (
              <Button variant="primary" aria-expanded={adding} onClick={() => setAdding(!adding)}>
                {t("projects.new")}
              </Button>
            ) : null}
          </div>
        }
      >
        {t("projects.intro")}
      </PageHeader>
      {adding ? <NewProject onCancel={() => setAdding(false)} /> : null}
      <div className="mb-4 flex flex-wrap items-end gap-3" role="search" aria-label={t("projects.filter")}>
        <Field label={t("projects.search")}>{(p) => <Input {...p} type="search" value={filters.q} onChange={(e) => set({ q: e.target.value })} />}</Field>
        <Choice label={t("projects.statusLabel")} value={filters.status} empty={t("projects.all")} options={entries(STATUS_LABELS)} onChange={(status) => set({ status })} />
        <label className="flex h-10 items-center gap-2">
          <input type="checkbox" checked={filters.archived} onChange={(e) => set({ archived: e.target.checked })} />
          {t("projects.showArchived")}
        </label>
      </div>
      {projects.isPending ? <Spinner label={t("projects.loading")} /> : null}
      {projects.isError ? <Alert title={t("projects.loadFailed")}>{describeError(projects.error)}</Alert> : null}
      {projects.isSuccess && rows.length === 0 ? <EmptyState title={t("projects.empty")}>{t("projects.emptyHint")}</EmptyState> : null}
      {rows.length ? (
        <Card className="overflow-x-auto p-0">
          <table className="w-full text-left">
            <caption className="sr-only">{t("projects.title")}</caption>
            <thead className="border-b border-border text-fg-muted">
              <tr>
                <th scope="col" className="px-4 py-2">{t("projects.key")}</th>
                <th scope="col" className="px-4 py-2">{t("projects.name")}</th>
                <th scope="col" className="px-4 py-2">{t("projects.statusLabel")}</th>
                <th scope="col" className="px-4 py-2">{t("projects.owner")}</th>
                <th scope="col" className="px-4 py-2">{t("projects.targetDate")}</th>
                <th scope="col" className="px-4 py-2">{t("projects.openTasks")}</th>
              </tr>
            </thead>
            <tbody data-testid="project-rows">
              {rows.map((p) => (
                <tr key={p.id} className="border-b border-border last:border-b-0">
                  <td className="px-4 py-2 font-mono text-sm">{p.key}</td>
                  <td className="px-4 py-2">
                    <Link to={`/projects/${p.id}`} className="font-medium text-accent-text underline">
                      {p.name}
                    </Link>
                    {p.archived ? <Badge className="ml-2">{t("projects.archived")}</Badge> : null}
                  </td>
                  <td className="px-4 py-2">
                    <Badge tone="info">{STATUS_LABELS[p.status]}</Badge>
                  </td>
                  <td className="px-4 py-2">{p.owner?.name || p.owner?.email || "—"}</td>
                  <td className="px-4 py-2">{p.target_date ?? "—"}</td>
                  <td className="px-4 py-2 tabular-nums">{p.counts ? p.counts.open_tasks : "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Card>
      ) : null}
    </>
  );
}

function NewProject({ onCancel }: { onCancel: () => void }) {
  const navigate = useNavigate();
  const client = useQueryClient();
  const [form, setForm] = useState({ name: "", key: "", description: "", start_date: "", target_date: "" });
  const [keyError, setKeyError] = useState("");
  const save = useMutation({
    mutationFn: () =>
      create(paths.projects, {
        name: form.name.trim(),
        key: form.key,
        description: form.description,
        start_date: form.start_date || null,
        target_date: form.target_date || null,
      }) as Promise<Project>,
    onSuccess: (project) => {
      void client.invalidateQueries({ queryKey: projectKeys.all });
      void navigate(`/projects/${project.id}`);
    },
  });
  const errors = save.error instanceof ApiError ? save.error.fieldErrors : {};
  const submit = onSubmit(() => {
    if (!KEY.test(form.key)) {
      setKeyError(t("projects.keyInvalid"));
      return;
    }
    setKeyError("");
    save.mutate();
  });
  const set = (patch: Partial<typeof form>) => setForm((now) => ({ ...now, ...patch }));
  return (
    <Card as="section" aria-labelledby="new-project" className="mb-4 space-y-3">
      <h2 id="new-project" className="font-semibold">
        {t("projects.new")}
      </h2>
      <form className="grid gap-3 md:grid-cols-2" aria-labelledby="new-project" onSubmit={submit}>
        <Field label={t("projects.name")} required error={errors.name}>
          {(p) => <Input {...p} maxLength={200} value={form.name} onChange={(e) => set({ name: e.target.value })} />}
        </Field>
        <Field label={t("projects.key")} required description={t("projects.keyHint")} error={keyError || errors.key}>
          {(p) => <Input {...p} maxLength={10} value={form.key} onChange={(e) => set({ key: e.target.value.toUpperCase() })} />}
        </Field>
        <Field label={t("projects.startDate")} error={errors.start_date}>
          {(p) => <Input {...p} type="date" value={form.start_date} onChange={(e) => set({ start_date: e.target.value })} />}
        </Field>
        <Field label={t("projects.targetDate")} error={errors.target_date}>
          {(p) => <Input {...p} type="date" value={form.target_date} onChange={(e) => set({ target_date: e.target.value })} />}
        </Field>
        <Field label={t("projects.description")} className="md:col-span-2" error={errors.description}>
          {(p) => <Textarea {...p} rows={3} maxLength={20000} value={form.description} onChange={(e) => set({ description: e.target.value })} />}
        </Field>
        {save.isError && !Object.keys(errors).length ? (
          <div className="md:col-span-2">
            <Alert>{describeError(save.error)}</Alert>
          </div>
        ) : null}
        <div className="flex gap-2 md:col-span-2">
          <Button type="submit" variant="primary" busy={save.isPending} disabled={!form.name.trim()}>
            {t("projects.create")}
          </Button>
          <Button onClick={onCancel}>{t("projects.cancel")}</Button>
        </div>
      </form>
    </Card>
  );
}
