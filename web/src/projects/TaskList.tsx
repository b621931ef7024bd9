import { useState } from "react";
import { Link } from "react-router";
import { describeError } from "../api/problem";
import { Choice, entries } from "../changes/parts";
import { Alert, Badge, Card, EmptyState, Field, Input, Spinner } from "../components/ui";
import { t } from "../i18n/projects";
import { PRIORITY_LABELS, useTaskList, type Project, type TaskFilters } from "./api";

const ORDERS = { board: "projects.list.orderBoard", due: "projects.list.orderDue", created: "projects.list.orderCreated", priority: "projects.list.orderPriority" } as const;

/** The project's tasks as a table, filtered by words, assignee, label and priority, in board,
 * due-date, creation or priority order. */
export function TaskList({ project }: { project: Project }) {
  const [filters, setFilters] = useState<TaskFilters>({ q: "", assignee: "", label: "", priority: "", order: "board" });
  const tasks = useTaskList(project.id, filters);
  const set = (patch: Partial<TaskFilters>) => setFilters((now) => ({ ...now, ...patch }));
  const columns = new Map(project.columns.map((c) => [c.id, c.name]));
  const rows = tasks.data ?? [];
  return (
    <div className="space-y-3">
      <div className="flex flex-wrap items-end gap-3" role="search" aria-label={t("projects.list.filter")}>
        <Field label={t("projects.search")}>{(p) => <Input {...p} type="search" value={filters.q} onChange={(e) => set({ q: e.target.value })} />}</Field>
        <Choice label={t("projects.task.assignee")} value={filters.assignee} empty={t("projects.all")} options={[["me", t("projects.list.me")]] as const} onChange={(assignee) => set({ assignee })} />
        <Field label={t("projects.task.label")}>{(p) => <Input {...p} value={filters.label} maxLength={50} onChange={(e) => set({ label: e.target.value })} />}</Field>
        <Choice label={t("projects.task.priority")} value={filters.priority} empty={t("projects.all")} options={entries(PRIORITY_LABELS)} onChange={(priority) => set({ priority })} />
        <Choice
          label={t("projects.list.order")}
          value={filters.order}
          options={(Object.keys(ORDERS) as (keyof typeof ORDERS)[]).map((k) => [k, t(ORDERS[k])] as const)}
          onChange={(order) => set({ order: order || "board" })}
        />
      </div>
      {tasks.isPending ? <Spinner label={t("projects.board.loading")} /> : null}
      {tasks.isError ? <Alert title={t("projects.board.loadFailed")}>{describeError(tasks.error)}</Alert> : null}
      {tasks.isSuccess && !rows.length ? <EmptyState title={t("projects.list.empty")} /> : null}
      {rows.length ? (
        <Card className="overflow-x-auto p-0">
          <table className="w-full text-left">
            <caption className="sr-only">{t("projects.list.caption", { name: project.name })}</caption>
            <thead className="border-b border-border text-fg-muted">
              <tr>
                <th scope="col" className="px-4 py-2">{t("projects.task.key")}</th>
                <th scope="col" className="px-4 py-2">{t("projects.task.title")}</th>
                <th scope="col" className="px-4 py-2">{t("projects.board.column")}</th>
                <th scope="col" className="px-4 py-2">{t("projects.task.assignee")}</th>
                <th scope="col" className="px-4 py-2">{t("projects.task.priority")}</th>
                <th scope="col" className="px-4 py-2">{t("projects.task.dueDate")}</th>
              </tr>
            </thead>
            <tbody data-testid="task-rows">
              {rows.map((task) => (
                <tr key={task.id} className="border-b border-border last:border-b-0">
                  <td className="px-4 py-2 font-mono text-sm">{task.key}</td>
                  <td className="px-4 py-2">
                    <Link to={`/projects/${project.id}/tasks/${task.id}`} className="font-medium text-accent-text underline">
                      {task.title}
                    </Link>
                    {task.labels.map((label) => (
                      <Badge key={label} className="ml-1">
                        {label}
                      </Badge>
                    ))}
                  </td>
                  <td className="px-4 py-2">{columns.get(task.column_id) ?? "—"}</td>
                  <td className="px-4 py-2">{task.assignee ? task.assignee.name || task.assignee.email : t("projects.task.unassigned")}</td>
                  <td className="px-4 py-2">{PRIORITY_LABELS[task.priority]}</td>
                  <td className="px-4 py-2">{task.due_date ?? "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Card>
      ) : null}
    </div>
  );
}
