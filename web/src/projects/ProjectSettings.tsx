import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { ApiError, describeError } from "../api/problem";
import { Choice, entries, onSubmit, Section } from "../changes/parts";
import { UserPicker } from "../components/UserPicker";
import { Alert, Button, Field, Input, Select, Spinner, Textarea } from "../components/ui";
import { t } from "../i18n/projects";
import { call, CATEGORY_LABELS, ifMatch, paths, projectKeys, ROLE_LABELS, STATUS_LABELS, useMembers, type ColumnCategory, type DateConflicts, type Project, type ProjectRole, type ProjectStatus } from "./api";
import { columnProblems, columnsBody, draftOf, moveItem, newColumn, type DraftColumn } from "./columns";

const CONFLICTS: Record<DateConflicts, string> = { warn: "projects.settings.conflictWarn", refuse: "projects.settings.conflictRefuse" };

/** Owners' and managers' settings: the project's details and date-conflict rule, its
 * members and their roles, and its columns (reordered with buttons, by keyboard). */
export function ProjectSettings({ project }: { project: Project }) {
  // Held here: a save bumps the version, which remounts the columns editor.
  const [columnsSaved, setColumnsSaved] = useState(false);
  // The details form is drawn afresh only when the latest version is loaded after a 412
  // (its own save keeps it, and the "saved" it says, mounted).
  const [detailsDrawn, setDetailsDrawn] = useState(0);
  return (
    <div className="grid gap-4 lg:grid-cols-2">
      <Details key={`details-${detailsDrawn}`} project={project} onReloaded={() => setDetailsDrawn((n) => n + 1)} />
      <Members project={project} />
      <div className="lg:col-span-2">
        <Columns key={`columns-${project.version}`} project={project} saved={columnsSaved} onSaved={setColumnsSaved} />
      </div>
    </div>
  );
}

function useSaved(project: Project) {
  const client = useQueryClient();
  return (next: Project) => {
    client.setQueryData(projectKeys.project(project.id), next);
    void client.invalidateQueries({ queryKey: ["projects", "list"] });
    void client.invalidateQueries({ queryKey: projectKeys.tasks(project.id) });
  };
}

function Stale({ project, onReloaded }: { project: Project; onReloaded?: () => void }) {
  const client = useQueryClient();
  return (
    <Alert
      tone="warning"
      title={t("projects.settings.stale")}
      action={
        <Button size="sm" onClick={() => void client.invalidateQueries({ queryKey: projectKeys.project(project.id) }).then(onReloaded)}>
          {t("projects.settings.reload")}
        </Button>
      }
    >
      {t("projects.settings.staleHint")}
    </Alert>
  );
}

function Details({ project, onReloaded }: { project: Project; onReloaded: () => void }) {
  const saved = useSaved(project);
  const [done, setDone] = useState(false);
  const [form, setForm] = useState({
    name: project.name,
    description: project.description ?? "",
    status: project.status,
    start_date: project.start_date ?? "",
    target_date: project.target_date ?? "",
    date_conflicts: project.settings.date_conflicts,
    archived: project.archived,
  });
  const save = useMutation({
    mutationFn: () =>
      call<Project>("PATCH", paths.project(project.id), {
        headers: ifMatch(project.version),
        body: {
          name: form.name.trim(),
          description: form.description,
          status: form.status,
          start_date: form.start_date || null,
          target_date: form.target_date || null,
          archived: form.archived,
          settings: { date_conflicts: form.date_conflicts },
        },
      }),
    onMutate: () => setDone(false),
    onSuccess: (next) => {
      setDone(true);
      saved(next);
    },
  });
  const errors = save.error instanceof ApiError ? save.error.fieldErrors : {};
  const set = (patch: Partial<typeof form>) => {
    setDone(false);
    setForm((now) => ({ ...now, ...patch }));
  };
  return (
    <Section id="project-details" title={t("projects.settings.details")}>
      <form className="space-y-3" aria-labelledby="project-details" onSubmit={onSubmit(() => save.mutate())}>
        <Field label={t("projects.name")} required error={errors.name}>
          {(p) => <Input {...p} maxLength={200} value={form.name} onChange={(e) => set({ name: e.target.value })} />}
        </Field>
        <Field label={t("projects.description")} error={errors.description}>
          {(p) => <Textarea {...p} rows={3} maxLength={20000} value={form.description} onChange={(e) => set({ description: e.target.value })} />}
        </Field>
        <Choice<ProjectStatus> label={t("projects.statusLabel")} value={form.status} options={entries(STATUS_LABELS)} error={errors.status} onChange={(status) => set({ status: status || form.status })} />
        <div className="grid gap-3 sm:grid-cols-2">
          <Field label={t("projects.startDate")} error={errors.start_date}>
            {(p) => <Input {...p} type="date" value={form.start_date} onChange={(e) => set({ start_date: e.target.value })} />}
          </Field>
          <Field label={t("projects.targetDate")} error={errors.target_date}>
            {(p) => <Input {...p} type="date" value={form.target_date} onChange={(e) => set({ target_date: e.target.value })} />}
          </Field>
        </div>
        <Choice<DateConflicts>
          label={t("projects.settings.dateConflicts")}
          description={t("projects.settings.dateConflictsHint")}
          value={form.date_conflicts}
          options={(Object.keys(CONFLICTS) as DateConflicts[]).map((k) => [k, t(CONFLICTS[k] as "projects.settings.conflictWarn")] as const)}
          error={errors["settings.date_conflicts"]}
          onChange={(v) => set({ date_conflicts: v || form.date_conflicts })}
        />
        <label className="flex items-center gap-2">
          <input type="checkbox" checked={form.archived} onChange={(e) => set({ archived: e.target.checked })} />
          {t("projects.settings.archive")}
        </label>
        {save.error instanceof ApiError && save.error.status === 412 ? <Stale project={project} onReloaded={onReloaded} /> : save.isError && !Object.keys(errors).length ? <Alert>{describeError(save.error)}</Alert> : null}
        {/* Always there, so that the words put in it are announced. */}
        <div role="status" aria-live="polite">
          {done ? <p className="rounded-md bg-success-subtle px-4 py-3 text-success-text">{t("projects.settings.saved")}</p> : null}
        </div>
        <Button type="submit" variant="primary" busy={save.isPending}>
          {t("projects.settings.save")}
        </Button>
      </form>
    </Section>
  );
}

function Members({ project }: { project: Project }) {
  const client = useQueryClient();
  const members = useMembers(project.id);
  const [picked, setPicked] = useState<string[]>([]);
  const [role, setRole] = useState<ProjectRole>("member");
  const done = () => {
    void client.invalidateQueries({ queryKey: projectKeys.members(project.id) });
    void client.invalidateQueries({ queryKey: projectKeys.project(project.id) });
  };
  const put = useMutation({
    mutationFn: ({ userId, role: next }: { userId: string; role: ProjectRole }) => call("PUT", paths.member(project.id, userId), { body: { role: next } }),
    onSuccess: () => {
      setPicked([]);
      done();
    },
  });
  const remove = useMutation({ mutationFn: (userId: string) => call("DELETE", paths.member(project.id, userId)), onSuccess: done });
  const error = put.error ?? remove.error;
  return (
    <Section id="project-members" title={t("projects.settings.members")}>
      {members.isPending ? <Spinner /> : null}
      {members.isError ? <Alert>{describeError(members.error)}</Alert> : null}
      <ul className="space-y-2" data-testid="member-rows">
        {(members.data ?? []).map((m) => {
          const name = m.user.name || m.user.email;
          return (
            <li key={m.user.id} className="flex flex-wrap items-end gap-2">
              <span className="min-w-40 flex-1">
                {name} <span className="text-fg-muted">{m.user.email}</span>
              </span>
              <Field label={t("projects.settings.roleOf", { name })}>
                {(p) => (
                  <Select {...p} value={m.role} disabled={put.isPending} onChange={(e) => put.mutate({ userId: m.user.id, role: e.target.value as ProjectRole })}>
                    {entries(ROLE_LABELS).map(([value, words]) => (
                      <option key={value} value={value}>
                        {words}
                      </option>
                    ))}
                  </Select>
                )}
              </Field>
              <Button size="sm" variant="ghost" disabled={remove.isPending} onClick={() => remove.mutate(m.user.id)}>
                {t("projects.settings.removeMember", { name })}
              </Button>
            </li>
          );
        })}
      </ul>
      {error ? <Alert>{describeError(error)}</Alert> : null}
      <form className="space-y-2" aria-label={t("projects.settings.addMember")} onSubmit={onSubmit(() => picked[0] && put.mutate({ userId: picked[0], role }))}>
        <UserPicker label={t("projects.settings.person")} value={picked} onChange={setPicked} />
        <div className="flex items-end gap-2">
          <Choice<ProjectRole> label={t("projects.settings.role")} value={role} options={entries(ROLE_LABELS)} onChange={(r) => setRole(r || "member")} />
          <Button type="submit" disabled={!picked.length} busy={put.isPending}>
            {t("projects.settings.addMember")}
          </Button>
        </div>
      </form>
    </Section>
  );
}

function Columns({ project, saved: done, onSaved }: { project: Project; saved: boolean; onSaved: (saved: boolean) => void }) {
  const saved = useSaved(project);
  const [draft, setDraftNow] = useState<DraftColumn[]>(() => draftOf(project.columns));
  const setDraft: typeof setDraftNow = (next) => {
    onSaved(false);
    setDraftNow(next);
  };
  const [checked, setChecked] = useState(false);
  const [said, setSaid] = useState("");
  const save = useMutation({
    mutationFn: () => call<Project>("PUT", paths.columns(project.id), { headers: ifMatch(project.version), body: { columns: columnsBody(draft), version: project.version } }),
    onSuccess: (next) => {
      onSaved(true);
      saved(next);
    },
  });
  const problems = columnProblems(draft);
  const errors = save.error instanceof ApiError ? save.error.fieldErrors : {};
  const update = (i: number, patch: Partial<DraftColumn>) => setDraft((now) => now.map((c, j) => (j === i ? { ...c, ...patch } : c)));
  const shift = (i: number, delta: number) => {
    const name = draft[i]?.name || t("projects.settings.unnamed");
    setDraft((now) => moveItem(now, i, delta));
    setSaid(t("projects.settings.columnMoved", { name, position: i + delta + 1, count: draft.length }));
    // The focus follows the column to its new place (its button there has the same name).
    requestAnimationFrame(() => document.getElementById(`column-${delta < 0 ? "up" : "down"}-${draft[i]?.key ?? ""}`)?.focus());
  };
  return (
    <Section id="project-columns" title={t("projects.settings.columns")}>
      <p className="text-fg-muted">{t("projects.settings.columnsHint")}</p>
      <div role="status" aria-live="polite" className="sr-only">
        {said}
      </div>
      <form
        className="space-y-3"
        aria-labelledby="project-columns"
        onSubmit={onSubmit(() => {
          setChecked(true);
          if (!problems.blank.length && !problems.noDone) save.mutate();
        })}
      >
        <ol className="space-y-2" data-testid="column-rows">
          {draft.map((c, i) => {
            const n = i + 1;
            const blank = checked && problems.blank.includes(i) ? t("projects.settings.nameRequired") : undefined;
            return (
              <li key={c.key} className="flex flex-wrap items-end gap-2 rounded-md border border-border p-2">
                <Field label={t("projects.settings.columnName", { n })} error={blank ?? errors[`columns.${i}.name`] ?? errors[`columns[${i}]`] ?? errors[`columns.${i}`]}>
                  {(p) => <Input {...p} maxLength={60} value={c.name} onChange={(e) => update(i, { name: e.target.value })} />}
                </Field>
                <Field label={t("projects.settings.columnCategory", { n })}>
                  {(p) => (
                    <Select {...p} value={c.category} onChange={(e) => update(i, { category: e.target.value as ColumnCategory })}>
                      {entries(CATEGORY_LABELS).map(([value, words]) => (
                        <option key={value} value={value}>
                          {words}
                        </option>
                      ))}
                    </Select>
                  )}
                </Field>
                <Field label={t("projects.settings.columnWip", { n })} className="w-28">
                  {(p) => <Input {...p} type="number" min={1} max={999} value={c.wip_limit} onChange={(e) => update(i, { wip_limit: e.target.value })} />}
                </Field>
                <Button id={`column-up-${c.key}`} size="sm" disabled={i === 0} aria-label={t("projects.settings.columnUp", { n })} onClick={() => shift(i, -1)}>
                  {t("projects.settings.up")}
                </Button>
                <Button id={`column-down-${c.key}`} size="sm" disabled={i === draft.length - 1} aria-label={t("projects.settings.columnDown", { n })} onClick={() => shift(i, 1)}>
                  {t("projects.settings.down")}
                </Button>
                <Button size="sm" variant="ghost" disabled={draft.length === 1} aria-label={t("projects.settings.columnRemove", { n })} onClick={() => setDraft((now) => now.filter((_, j) => j !== i))}>
                  {t("projects.settings.remove")}
                </Button>
              </li>
            );
          })}
        </ol>
        {checked && problems.noDone ? <Alert>{t("projects.settings.needDone")}</Alert> : null}
        {save.error instanceof ApiError && save.error.status === 412 ? <Stale project={project} /> : save.isError ? <Alert>{describeError(save.error)}</Alert> : null}
        {done ? <Alert tone="success">{t("projects.settings.columnsSaved")}</Alert> : null}
        <div className="flex gap-2">
          <Button onClick={() => setDraft((now) => [...now, newColumn()])} disabled={draft.length >= 20}>
            {t("projects.settings.addColumn")}
          </Button>
          <Button type="submit" variant="primary" busy={save.isPending}>
            {t("projects.settings.saveColumns")}
          </Button>
        </div>
      </form>
    </Section>
  );
}
