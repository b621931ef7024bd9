import { useState } from "react";
import { Link } from "react-router";
import { describeError } from "../api/problem";
import { Alert, Card, EmptyState, PageHeader, Spinner } from "../components/ui";
import { t } from "../i18n/projects";
import { CATEGORY_LABELS, PRIORITY_LABELS, useMyTasks } from "./api";

/** The caller's tasks across every project they may see, open ones by default. */
export default function MyTasksPage() {
  const [open, setOpen] = useState(true);
  const tasks = useMyTasks(open);
  const rows = tasks.data ?? [];
  return (
    <>
      <PageHeader title={t("projects.myTasks")}>{t("projects.mine.intro")}</PageHeader>
      <label className="mb-4 flex items-center gap-2">
        <input type="checkbox" checked={open} onChange={(e) => setOpen(e.target.checked)} />
        {t("projects.mine.openOnly")}
      </label>
      {tasks.isPending ? <Spinner label={t("projects.board.loading")} /> : null}
      {tasks.isError ? <Alert title={t("projects.board.loadFailed")}>{describeError(tasks.error)}</Alert> : null}
      {tasks.isSuccess && !rows.length ? <EmptyState title={t("projects.mine.empty")}>{t("projects.mine.emptyHint")}</EmptyState> : null}
      {rows.length ? (
        <Card className="overflow-x-auto p-0">
          <table className="w-full text-left">
            <caption className="sr-only">{t("projects.myTasks")}</caption>
            <thead className="border-b border-border text-fg-muted">
              <tr>
                <th scope="col" className="px-4 py-2">{t("projects.task.key")}</th>
                <th scope="col" className="px-4 py-2">{t("projects.task.title")}</th>
                <th scope="col" className="px-4 py-2">{t("projects.task.priority")}</th>
                <th scope="col" className="px-4 py-2">{t("projects.task.dueDate")}</th>
                <th scope="col" className="px-4 py-2">{t("projects.mine.state")}</th>
              </tr>
            </thead>
            <tbody data-testid="my-task-rows">
              {rows.map((task) => (
                <tr key={task.id} className="border-b border-border last:border-b-0">
                  <td className="px-4 py-2 font-mono text-sm">{task.key}</td>
                  <td className="px-4 py-2">
                    <Link to={`/projects/${task.project_id}/tasks/${task.id}`} className="font-medium text-accent-text underline">
                      {task.title}
                    </Link>
                  </td>
                  <td className="px-4 py-2">{PRIORITY_LABELS[task.priority]}</td>
                  <td className="px-4 py-2">{task.due_date ?? "—"}</td>
                  <td className="px-4 py-2">{CATEGORY_LABELS[task.status_category]}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Card>
      ) : null}
    </>
  );
}
