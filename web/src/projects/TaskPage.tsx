import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { api, ok } from "../api/client";
import type { Attachment } from "../api/types";
import { AttachmentItems, FileUploader } from "../tickets/Attachments";
import { uploadTaskAttachment } from "../tickets/upload";
import { ApiError, describeError } from "../api/problem";
import { useMe } from "../auth/AuthProvider";
import { Choice, entries, onSubmit, Section } from "../changes/parts";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { UserPicker } from "../components/UserPicker";
import { Alert, Badge, Button, Field, Input, PageHeader, Select, Spinner, Textarea } from "../components/ui";
import { can } from "../lib/domain";
import { useLiveProject } from "../live/LiveProvider";
import { formatDateTime } from "../lib/format";
import { t } from "../i18n/projects";
import {
  call,
  create,
  ifMatch,
  mayEdit,
  paths,
  PRIORITY_LABELS,
  projectKeys,
  useBoardTasks,
  useComments,
  useDependencies,
  useProject,
  useTask,
  type ChecklistItem,
  type DependencyType,
  type Priority,
  type Project,
  type Task,
} from "./api";

const DEP_TYPES: Record<DependencyType, string> = { finish_to_start: "projects.dep.finish_to_start", start_to_start: "projects.dep.start_to_start" };

/** One task: its fields, checklist, dependencies (a cycle the server refuses is said at the
 * field), linked tickets, files, comments, and watching it. */
export default function TaskPage() {
  const { projectId = "", taskId = "" } = useParams();
  const me = useMe();
  const project = useProject(projectId);
  const task = useTask(projectId, taskId);
  useLiveProject(projectId);
  if (project.isPending || task.isPending) return <Spinner label={t("projects.task.loading")} />;
  const failed = project.error ?? task.error;
  if (failed) {
    const missing = failed instanceof ApiError && failed.status === 404;
    return <Alert title={missing ? t("projects.task.notFound") : t("projects.task.loadFailed")}>{missing ? null : describeError(failed)}</Alert>;
  }
  if (!project.data || !task.data) return null;
  const p = project.data;
  const tk = task.data;
  const editable = mayEdit(p.my_role, can(me, "project:manage_all")) && !p.archived;
  return (
    <>
      <p className="mb-2">
        <Link to={`/projects/${p.id}`} className="text-accent-text underline">
          {t("projects.task.back", { name: p.name })}
        </Link>
      </p>
      <PageHeader title={t("projects.task.heading", { key: tk.key, title: tk.title })} actions={<Watch project={p} task={tk} />}>
        <span className="flex flex-wrap items-center gap-2">
          <Badge tone="info">{p.columns.find((c) => c.id === tk.column_id)?.name ?? "—"}</Badge>
          <Badge>{PRIORITY_LABELS[tk.priority]}</Badge>
          {tk.blocked_by.some((b) => b.open !== false) ? <Badge tone="danger">{t("projects.board.blockedBadge", { n: tk.blocked_by.filter((b) => b.open !== false).length })}</Badge> : null}
        </span>
      </PageHeader>
      <div className="grid gap-4 lg:grid-cols-2">
        <Fields key={`f-${tk.version}`} project={p} task={tk} editable={editable} />
        <div className="space-y-4">
          <Checklist project={p} task={tk} editable={editable} />
          <Dependencies project={p} task={tk} editable={editable} />
          <TicketLinks project={p} task={tk} editable={editable} />
          <Files project={p} task={tk} editable={editable} />
        </div>
        <div className="lg:col-span-2">
          <Comments project={p} task={tk} />
        </div>
      </div>
    </>
  );
}

function useSaveTask(project: Project, task: Task) {
  const client = useQueryClient();
  const [stale, setStale] = useState(false);
  const mutation = useMutation({
    mutationFn: (body: Record<string, unknown>) => call<Task>("PATCH", paths.task(project.id, task.id), { headers: ifMatch(task.version), body }),
    onSuccess: (next) => {
      setStale(false);
      client.setQueryData(projectKeys.task(project.id, task.id), next);
      void client.invalidateQueries({ queryKey: projectKeys.tasks(project.id) });
      void client.invalidateQueries({ queryKey: projectKeys.schedule(project.id) });
    },
    onError: (error) => {
      if (error instanceof ApiError && error.status === 412) {
        setStale(true);
        void client.invalidateQueries({ queryKey: projectKeys.task(project.id, task.id) });
      }
    },
  });
  return { ...mutation, stale };
}

function Fields({ project, task, editable }: { project: Project; task: Task; editable: boolean }) {
  const save = useSaveTask(project, task);
  const [form, setForm] = useState({
    title: task.title,
    description: task.description ?? "",
    assignee: task.assignee ? [task.assignee.id] : [],
    estimate_days: task.estimate_days === null ? "" : String(task.estimate_days),
    start_date: task.start_date ?? "",
    due_date: task.due_date ?? "",
    priority: task.priority,
    labels: task.labels.join(", "),
  });
  const errors = save.error instanceof ApiError ? save.error.fieldErrors : {};
  const set = (patch: Partial<typeof form>) => setForm((now) => ({ ...now, ...patch }));
  const submit = onSubmit(() =>
    save.mutate({
      title: form.title.trim(),
      description: form.description,
      assignee_id: form.assignee[0] ?? null,
      estimate_days: form.estimate_days === "" ? null : Number(form.estimate_days),
      start_date: form.start_date || null,
      due_date: form.due_date || null,
      priority: form.priority,
      labels: [...new Set(form.labels.split(",").map((l) => l.trim()).filter(Boolean))],
    }),
  );
  return (
    <Section id="task-fields" title={t("projects.task.details")}>
      <form className="space-y-3" aria-labelledby="task-fields" onSubmit={submit}>
        <fieldset disabled={!editable} className="space-y-3">
          <Field label={t("projects.task.title")} required error={errors.title}>
            {(p) => <Input {...p} maxLength={300} value={form.title} onChange={(e) => set({ title: e.target.value })} />}
          </Field>
          <Field label={t("projects.description")} error={errors.description}>
            {(p) => <Textarea {...p} rows={4} maxLength={20000} value={form.description} onChange={(e) => set({ description: e.target.value })} />}
          </Field>
          {editable ? (
            <UserPicker label={t("projects.task.assignee")} value={form.assignee} onChange={(assignee) => set({ assignee })} error={errors.assignee_id} />
          ) : (
            <p>
              {t("projects.task.assignee")}: {task.assignee ? task.assignee.name || task.assignee.email : t("projects.task.unassigned")}
            </p>
          )}
          <div className="grid gap-3 sm:grid-cols-3">
            <Field label={t("projects.task.estimate")} description={t("projects.task.estimateHint")} error={errors.estimate_days}>
              {(p) => <Input {...p} type="number" min={0} max={3650} step="0.5" value={form.estimate_days} onChange={(e) => set({ estimate_days: e.target.value })} />}
            </Field>
            <Field label={t("projects.task.startDate")} error={errors.start_date}>
              {(p) => <Input {...p} type="date" value={form.start_date} onChange={(e) => set({ start_date: e.target.value })} />}
            </Field>
            <Field label={t("projects.task.dueDate")} error={errors.due_date}>
              {(p) => <Input {...p} type="date" value={form.due_date} onChange={(e) => set({ due_date: e.target.value })} />}
            </Field>
          </div>
          <Choice<Priority> label={t("projects.task.priority")} value={form.priority} options={entries(PRIORITY_LABELS)} error={errors.priority} onChange={(priority) => set({ priority: priority || "normal" })} />
          <Field label={t("projects.task.labels")} description={t("projects.task.labelsHint")} error={errors.labels}>
            {(p) => <Input {...p} maxLength={500} value={form.labels} onChange={(e) => set({ labels: e.target.value })} />}
          </Field>
        </fieldset>
        {save.stale ? <Alert tone="warning">{t("projects.task.stale")}</Alert> : save.isError && !Object.keys(errors).length ? <Alert>{describeError(save.error)}</Alert> : null}
        {save.isSuccess ? <Alert tone="success">{t("projects.task.saved")}</Alert> : null}
        {editable ? (
          <div className="flex flex-wrap gap-2">
            <Button type="submit" variant="primary" busy={save.isPending}>
              {t("projects.task.save")}
            </Button>
            <DeleteTask project={project} task={task} />
          </div>
        ) : null}
      </form>
    </Section>
  );
}

function DeleteTask({ project, task }: { project: Project; task: Task }) {
  const client = useQueryClient();
  const navigate = useNavigate();
  const [open, setOpen] = useState(false);
  const remove = useMutation({
    mutationFn: () => call("DELETE", paths.task(project.id, task.id), { headers: ifMatch(task.version) }),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: ["projects", "one", project.id] });
      void navigate(`/projects/${project.id}`);
    },
  });
  return (
    <>
      <Button variant="danger" onClick={() => setOpen(true)}>
        {t("projects.task.delete")}
      </Button>
      <ConfirmDialog open={open} title={t("projects.task.deleteTitle", { key: task.key })} confirmLabel={t("projects.task.delete")} busy={remove.isPending} onClose={() => setOpen(false)} onConfirm={() => remove.mutate()}>
        {remove.isError ? describeError(remove.error) : t("projects.task.deleteHint")}
      </ConfirmDialog>
    </>
  );
}

function Checklist({ project, task, editable }: { project: Project; task: Task; editable: boolean }) {
  const save = useSaveTask(project, task);
  const [text, setText] = useState("");
  const items: ChecklistItem[] = task.checklist;
  const put = (next: ChecklistItem[]) => save.mutate({ checklist: next.map((i) => ({ ...(i.id ? { id: i.id } : {}), text: i.text, done: i.done })) });
  const doneCount = items.filter((i) => i.done).length;
  return (
    <Section id="task-checklist" title={t("projects.task.checklist")}>
      <p className="text-fg-muted">{t("projects.task.checklistDone", { done: doneCount, n: items.length })}</p>
      <ul className="space-y-1" data-testid="checklist">
        {items.map((item, i) => (
          <li key={item.id ?? i} className="flex items-center gap-2">
            <label className="flex flex-1 items-center gap-2">
              <input type="checkbox" checked={item.done} disabled={!editable || save.isPending} onChange={() => put(items.map((x, j) => (j === i ? { ...x, done: !x.done } : x)))} />
              <span className={item.done ? "line-through" : undefined}>{item.text}</span>
            </label>
            {editable ? (
              <Button size="sm" variant="ghost" disabled={save.isPending} onClick={() => put(items.filter((_, j) => j !== i))}>
                {t("projects.task.removeItem", { text: item.text })}
              </Button>
            ) : null}
          </li>
        ))}
      </ul>
      {editable ? (
        <form
          className="flex items-end gap-2"
          aria-label={t("projects.task.addItem")}
          onSubmit={onSubmit(() => {
            if (!text.trim()) return;
            put([...items, { text: text.trim(), done: false }]);
            setText("");
          })}
        >
          <Field label={t("projects.task.itemText")}>{(p) => <Input {...p} maxLength={500} value={text} onChange={(e) => setText(e.target.value)} />}</Field>
          <Button type="submit" disabled={!text.trim()} busy={save.isPending}>
            {t("projects.task.addItem")}
          </Button>
        </form>
      ) : null}
      {save.stale ? <Alert tone="warning">{t("projects.task.stale")}</Alert> : save.isError ? <Alert>{describeError(save.error)}</Alert> : null}
    </Section>
  );
}

function Dependencies({ project, task, editable }: { project: Project; task: Task; editable: boolean }) {
  const client = useQueryClient();
  const deps = useDependencies(project.id);
  const tasks = useBoardTasks(project.id);
  const [predecessor, setPredecessor] = useState("");
  const [type, setType] = useState<DependencyType>("finish_to_start");
  const [lag, setLag] = useState("0");
  const done = () => {
    void client.invalidateQueries({ queryKey: projectKeys.dependencies(project.id) });
    void client.invalidateQueries({ queryKey: projectKeys.schedule(project.id) });
    void client.invalidateQueries({ queryKey: projectKeys.task(project.id, task.id) });
    void client.invalidateQueries({ queryKey: projectKeys.tasks(project.id) });
  };
  const add = useMutation({
    mutationFn: () => create(paths.dependencies(project.id), { predecessor_id: predecessor, successor_id: task.id, type, lag_days: Number(lag) || 0 }),
    onSuccess: () => {
      setPredecessor("");
      done();
    },
  });
  const remove = useMutation({ mutationFn: (id: string) => call("DELETE", paths.dependency(project.id, id)), onSuccess: done });
  const byId = new Map((tasks.data ?? []).map((x) => [x.id, x]));
  const name = (id: string) => {
    const other = byId.get(id);
    return other ? `${other.key} ${other.title}` : id.slice(0, 8);
  };
  const list = deps.data ?? [];
  const before = list.filter((d) => d.successor_id === task.id);
  const after = list.filter((d) => d.predecessor_id === task.id);
  const errors = add.error instanceof ApiError ? add.error.fieldErrors : {};
  const fieldError = errors.predecessor_id ?? errors.successor_id;
  const typeWords = (d: DependencyType) => t(DEP_TYPES[d] as "projects.dep.finish_to_start");
  return (
    <Section id="task-dependencies" title={t("projects.task.dependencies")}>
      <h3 className="font-medium">{t("projects.task.dependsOn")}</h3>
      {before.length ? (
        <ul className="space-y-1" data-testid="predecessors">
          {before.map((d) => (
            <li key={d.id} className="flex flex-wrap items-center gap-2">
              <Link to={`/projects/${project.id}/tasks/${d.predecessor_id}`} className="text-accent-text underline">
                {name(d.predecessor_id)}
              </Link>
              <span className="text-fg-muted">{d.lag_days ? t("projects.dep.withLag", { type: typeWords(d.type), n: d.lag_days }) : typeWords(d.type)}</span>
              {editable ? (
                <Button size="sm" variant="ghost" disabled={remove.isPending} onClick={() => remove.mutate(d.id)}>
                  {t("projects.dep.remove", { name: name(d.predecessor_id) })}
                </Button>
              ) : null}
            </li>
          ))}
        </ul>
      ) : (
        <p className="text-fg-muted">{t("projects.dep.none")}</p>
      )}
      <h3 className="font-medium">{t("projects.task.blocks")}</h3>
      {after.length ? (
        <ul className="space-y-1" data-testid="successors">
          {after.map((d) => (
            <li key={d.id}>
              <Link to={`/projects/${project.id}/tasks/${d.successor_id}`} className="text-accent-text underline">
                {name(d.successor_id)}
              </Link>
            </li>
          ))}
        </ul>
      ) : (
        <p className="text-fg-muted">{t("projects.dep.noneAfter")}</p>
      )}
      {editable ? (
        <form className="space-y-2" aria-label={t("projects.dep.add")} onSubmit={onSubmit(() => predecessor && add.mutate())}>
          <Field label={t("projects.dep.predecessor")} error={fieldError}>
            {(p) => (
              <Select {...p} value={predecessor} onChange={(e) => setPredecessor(e.target.value)}>
                <option value="">{t("projects.dep.choose")}</option>
                {(tasks.data ?? [])
                  .filter((x) => x.id !== task.id)
                  .map((x) => (
                    <option key={x.id} value={x.id}>
                      {`${x.key} ${x.title}`}
                    </option>
                  ))}
              </Select>
            )}
          </Field>
          <div className="flex flex-wrap items-end gap-2">
            <Choice<DependencyType> label={t("projects.dep.type")} value={type} options={(Object.keys(DEP_TYPES) as DependencyType[]).map((k) => [k, typeWords(k)] as const)} onChange={(v) => setType(v || "finish_to_start")} />
            <Field label={t("projects.dep.lag")} error={errors.lag_days} className="w-28">
              {(p) => <Input {...p} type="number" min={0} max={365} value={lag} onChange={(e) => setLag(e.target.value)} />}
            </Field>
            <Button type="submit" disabled={!predecessor} busy={add.isPending}>
              {t("projects.dep.add")}
            </Button>
          </div>
          {add.isError && !fieldError && !errors.lag_days ? <Alert>{describeError(add.error)}</Alert> : null}
          {remove.isError ? <Alert>{describeError(remove.error)}</Alert> : null}
        </form>
      ) : null}
    </Section>
  );
}

function TicketLinks({ project, task, editable }: { project: Project; task: Task; editable: boolean }) {
  const client = useQueryClient();
  const [q, setQ] = useState("");
  const [picked, setPicked] = useState("");
  const [waits, setWaits] = useState(false);
  const found = useQuery({
    queryKey: ["tickets", "search", "projects", q],
    enabled: editable && q.trim().length > 1,
    queryFn: ({ signal }) => ok(api.GET("/v1/tickets", { params: { query: { q: q.trim(), limit: 10 } }, signal })),
    select: (page) => page.items,
  });
  const done = () => {
    void client.invalidateQueries({ queryKey: projectKeys.task(project.id, task.id) });
    void client.invalidateQueries({ queryKey: ["projects", "ticket"] });
  };
  const link = useMutation({
    mutationFn: () => create(paths.ticketLinks(project.id, task.id), { ticket_id: picked, waits }),
    onSuccess: () => {
      setPicked("");
      setQ("");
      setWaits(false);
      done();
    },
  });
  const unlink = useMutation({ mutationFn: (ticketId: string) => call("DELETE", paths.ticketLink(project.id, task.id, ticketId)), onSuccess: done });
  const errors = link.error instanceof ApiError ? link.error.fieldErrors : {};
  return (
    <Section id="task-tickets" title={t("projects.task.tickets")}>
      {task.ticket_links.length ? (
        <ul className="space-y-1" data-testid="task-tickets">
          {task.ticket_links.map((l) => (
            <li key={l.ticket_id} className="flex flex-wrap items-center gap-2">
              <Link to={`/tickets/${l.ticket_id}`} className="text-accent-text underline">
                {`${l.number}: ${l.subject}`}
              </Link>
              {l.waits ? <Badge tone="warning">{t("projects.task.ticketWaits")}</Badge> : null}
              {editable ? (
                <Button size="sm" variant="ghost" disabled={unlink.isPending} onClick={() => unlink.mutate(l.ticket_id)}>
                  {t("projects.task.unlinkTicket", { n: l.number })}
                </Button>
              ) : null}
            </li>
          ))}
        </ul>
      ) : (
        <p className="text-fg-muted">{t("projects.task.noTickets")}</p>
      )}
      {editable ? (
        <form className="space-y-2" aria-label={t("projects.task.linkTicket")} onSubmit={onSubmit(() => picked && link.mutate())}>
          <Field label={t("projects.task.findTicket")}>{(p) => <Input {...p} type="search" value={q} onChange={(e) => setQ(e.target.value)} />}</Field>
          <Field label={t("projects.task.ticket")} error={errors.ticket_id}>
            {(p) => (
              <Select {...p} value={picked} onChange={(e) => setPicked(e.target.value)}>
                <option value="">{t("projects.task.chooseTicket")}</option>
                {(found.data ?? []).map((ticket) => (
                  <option key={ticket.id} value={ticket.id}>
                    {`${ticket.number}: ${ticket.title}`}
                  </option>
                ))}
              </Select>
            )}
          </Field>
          <label className="flex items-center gap-2">
            <input type="checkbox" checked={waits} onChange={(e) => setWaits(e.target.checked)} />
            {t("projects.task.waits")}
          </label>
          <Button type="submit" disabled={!picked} busy={link.isPending}>
            {t("projects.task.linkTicket")}
          </Button>
          {link.isError && !errors.ticket_id ? <Alert>{describeError(link.error)}</Alert> : null}
          {unlink.isError ? <Alert>{describeError(unlink.error)}</Alert> : null}
        </form>
      ) : null}
    </Section>
  );
}

/** The task's files: the ticket page's list and uploader, on the task's routes. */
function Files({ project, task, editable }: { project: Project; task: Task; editable: boolean }) {
  const client = useQueryClient();
  const key = projectKeys.attachments(project.id, task.id);
  const path = { project_id: project.id, task_id: task.id };
  const files = useQuery({
    queryKey: key,
    queryFn: ({ signal }) => ok(api.GET("/v1/projects/{project_id}/tasks/{task_id}/attachments", { params: { path, query: { limit: 100 } }, signal })),
    select: (page) => page.items,
  });
  const [said, setSaid] = useState("");
  const refetch = () => void client.invalidateQueries({ queryKey: key });
  const remove = async (file: Attachment) => {
    await ok(api.DELETE("/v1/projects/{project_id}/tasks/{task_id}/attachments/{attachment_id}", { params: { path: { ...path, attachment_id: file.id } } }));
    setSaid(t("projects.task.fileRemoved", { name: file.filename }));
    refetch();
  };
  return (
    <Section id="task-files" title={t("projects.task.files")}>
      {files.isPending ? <Spinner /> : null}
      {files.isError ? <Alert>{describeError(files.error)}</Alert> : null}
      {files.isSuccess ? <AttachmentItems items={files.data} {...(editable ? { onRemove: remove } : {})} /> : null}
      <p role="status" aria-live="polite" className="sr-only">
        {said}
      </p>
      {editable ? (
        <FileUploader
          label={t("projects.task.attach")}
          upload={(file, onProgress) => uploadTaskAttachment(project.id, task.id, file, onProgress)}
          onDone={refetch}
        />
      ) : null}
    </Section>
  );
}

function Comments({ project, task }: { project: Project; task: Task }) {
  const client = useQueryClient();
  const comments = useComments(project.id, task.id);
  const [body, setBody] = useState("");
  const add = useMutation({
    mutationFn: () => create(paths.comments(project.id, task.id), { body: body.trim() }),
    onSuccess: () => {
      setBody("");
      void client.invalidateQueries({ queryKey: projectKeys.comments(project.id, task.id) });
    },
  });
  const errors = add.error instanceof ApiError ? add.error.fieldErrors : {};
  return (
    <Section id="task-comments" title={t("projects.task.comments")}>
      {comments.isPending ? <Spinner /> : null}
      {comments.isError ? <Alert>{describeError(comments.error)}</Alert> : null}
      {comments.data?.length ? (
        <ol className="space-y-3" data-testid="task-comments">
          {comments.data.map((c) => (
            <li key={c.id} className="rounded-md border border-border p-3">
              <p className="text-sm text-fg-muted">{t("projects.task.commentBy", { name: c.author?.name || c.author?.email || "—", when: formatDateTime(c.created_at) })}</p>
              <p className="whitespace-pre-wrap break-words">{c.body}</p>
            </li>
          ))}
        </ol>
      ) : comments.isSuccess ? (
        <p className="text-fg-muted">{t("projects.task.noComments")}</p>
      ) : null}
      <form className="space-y-2" aria-label={t("projects.task.addComment")} onSubmit={onSubmit(() => body.trim() && add.mutate())}>
        <Field label={t("projects.task.comment")} error={errors.body}>
          {(p) => <Textarea {...p} rows={3} maxLength={20000} value={body} onChange={(e) => setBody(e.target.value)} />}
        </Field>
        {add.isError && !errors.body ? <Alert>{describeError(add.error)}</Alert> : null}
        <Button type="submit" disabled={!body.trim()} busy={add.isPending}>
          {t("projects.task.addComment")}
        </Button>
      </form>
    </Section>
  );
}

function Watch({ project, task }: { project: Project; task: Task }) {
  const me = useMe();
  const client = useQueryClient();
  const watching = task.watchers.some((w) => (typeof w === "string" ? w : w.id) === me.user.id);
  const toggle = useMutation({
    mutationFn: () => call(watching ? "DELETE" : "PUT", paths.watch(project.id, task.id)),
    onSuccess: () => void client.invalidateQueries({ queryKey: projectKeys.task(project.id, task.id) }),
  });
  return (
    <div className="flex flex-col items-end gap-1">
      <Button busy={toggle.isPending} onClick={() => toggle.mutate()}>
        {watching ? t("projects.task.unwatch") : t("projects.task.watch")}
      </Button>
      {toggle.isError ? <Alert>{describeError(toggle.error)}</Alert> : null}
    </div>
  );
}
