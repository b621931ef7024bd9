import * as Tabs from "@radix-ui/react-tabs";
import { Link, Navigate, useParams, useSearchParams } from "react-router";
import { ApiError, describeError } from "../api/problem";
import { useMe } from "../auth/AuthProvider";
import { Alert, Badge, PageHeader, Spinner } from "../components/ui";
import { can } from "../lib/domain";
import { useLiveProject } from "../live/LiveProvider";
import { t } from "../i18n/projects";
import { mayEdit, mayManage, ROLE_LABELS, STATUS_LABELS, useProject } from "./api";
import { Board } from "./Board";
import { ProjectSettings } from "./ProjectSettings";
import { TaskList } from "./TaskList";
import { Timeline } from "./Timeline";

const TAB =
  "-mb-px border-b-2 border-transparent px-3 py-2 font-medium text-fg-muted data-[state=active]:border-accent data-[state=active]:text-accent-text";
const VIEWS = ["board", "list", "timeline", "settings"] as const;
type View = (typeof VIEWS)[number];

/** One project: its board, its task list, its timeline and (owners and managers) its
 * settings, as tabs whose choice is in the address (?view=). Other people's changes come
 * through the project's realtime room (polling while the socket is down). */
export default function ProjectPage() {
  const { projectId = "" } = useParams();
  const me = useMe();
  const project = useProject(projectId);
  const [params, setParams] = useSearchParams();
  useLiveProject(projectId);
  // The e-mails link a task as /projects/{id}?task={task_id}.
  const task = params.get("task");
  if (task) return <Navigate to={`/projects/${projectId}/tasks/${task}`} replace />;
  if (project.isPending) return <Spinner label={t("projects.detail.loading")} />;
  if (project.isError) {
    const missing = project.error instanceof ApiError && project.error.status === 404;
    return <Alert title={missing ? t("projects.detail.notFound") : t("projects.detail.loadFailed")}>{missing ? null : describeError(project.error)}</Alert>;
  }
  const p = project.data;
  const manageAll = can(me, "project:manage_all");
  const editable = mayEdit(p.my_role, manageAll) && !p.archived;
  const manage = mayManage(p.my_role, manageAll);
  const asked = params.get("view") as View | null;
  const view: View = asked && VIEWS.includes(asked) && (asked !== "settings" || manage) ? asked : "board";
  return (
    <>
      <p className="mb-2">
        <Link to="/projects" className="text-accent-text underline">
          {t("projects.back")}
        </Link>
      </p>
      <PageHeader title={t("projects.detail.title", { key: p.key, name: p.name })}>
        <span className="flex flex-wrap items-center gap-2">
          <Badge tone="info">{STATUS_LABELS[p.status]}</Badge>
          {p.my_role ? <Badge>{t("projects.detail.yourRole", { role: ROLE_LABELS[p.my_role] })}</Badge> : null}
          {p.archived ? <Badge tone="warning">{t("projects.archived")}</Badge> : null}
          {p.target_date ? <span>{t("projects.detail.target", { date: p.target_date })}</span> : null}
        </span>
      </PageHeader>
      {p.description ? <p className="mb-4 whitespace-pre-wrap">{p.description}</p> : null}
      <Tabs.Root value={view} onValueChange={(next) => setParams(next === "board" ? {} : { view: next }, { replace: true })}>
        <Tabs.List aria-label={t("projects.detail.views")} className="mb-3 flex gap-1 border-b border-border">
          <Tabs.Trigger value="board" className={TAB}>
            {t("projects.detail.board")}
          </Tabs.Trigger>
          <Tabs.Trigger value="list" className={TAB}>
            {t("projects.detail.list")}
          </Tabs.Trigger>
          <Tabs.Trigger value="timeline" className={TAB}>
            {t("projects.detail.timeline")}
          </Tabs.Trigger>
          {manage ? (
            <Tabs.Trigger value="settings" className={TAB}>
              {t("projects.detail.settings")}
            </Tabs.Trigger>
          ) : null}
        </Tabs.List>
        <Tabs.Content value="board">
          <Board project={p} editable={editable} />
        </Tabs.Content>
        <Tabs.Content value="list">
          <TaskList project={p} />
        </Tabs.Content>
        <Tabs.Content value="timeline">
          <Timeline project={p} editable={editable} />
        </Tabs.Content>
        {manage ? (
          <Tabs.Content value="settings">
            <ProjectSettings project={p} />
          </Tabs.Content>
        ) : null}
      </Tabs.Root>
    </>
  );
}
