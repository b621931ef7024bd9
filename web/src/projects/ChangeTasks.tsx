import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { ApiError, describeError } from "../api/problem";
import { useMe } from "../auth/AuthProvider";
import { Section, onSubmit } from "../changes/parts";
import { Alert, Button } from "../components/ui";
import { can } from "../lib/domain";
import { plural, t } from "../i18n/projects";
import { create, paths, type Task } from "./api";
import { ProjectChoice } from "./ProjectChoice";

/** On a change's page: "Plan as tasks" turns the implementation plan into tasks (one per
 * line, chained finish-to-start) in a project the caller may edit, then links to them. */
export function ChangeTasks({ changeId, plan }: { changeId: string; plan: string }) {
  const me = useMe();
  const client = useQueryClient();
  const allowed = can(me, "project:use");
  const [open, setOpen] = useState(false);
  const [projectId, setProjectId] = useState("");
  const plant = useMutation({
    mutationFn: () => create(`${paths.tasks(projectId)}/from-change`, { change_id: changeId }) as Promise<{ items: Task[] }>,
    onSuccess: () => {
      setOpen(false);
      void client.invalidateQueries({ queryKey: ["projects", "one", projectId] });
    },
  });
  if (!allowed || !plan.trim()) return null;
  const errors = plant.error instanceof ApiError ? plant.error.fieldErrors : {};
  const made = plant.data?.items ?? [];
  return (
    <Section id="change-tasks-heading" title={t("projects.change.heading")}>
      {made.length ? (
        <>
          <p role="status">{plural(made.length, { one: "projects.change.madeOne", other: "projects.change.madeOther" })}</p>
          <ol className="list-decimal space-y-1 pl-5" data-testid="change-tasks">
            {made.map((task) => (
              <li key={task.id}>
                <Link to={`/projects/${task.project_id}/tasks/${task.id}`} className="text-accent-text underline">
                  {`${task.key}: ${task.title}`}
                </Link>
              </li>
            ))}
          </ol>
        </>
      ) : (
        <p className="text-fg-muted">{t("projects.change.intro")}</p>
      )}
      <Button size="sm" aria-expanded={open} onClick={() => setOpen(!open)}>
        {t("projects.change.plan")}
      </Button>
      {open ? (
        <form className="space-y-2" aria-label={t("projects.change.plan")} onSubmit={onSubmit(() => projectId && plant.mutate())}>
          <ProjectChoice value={projectId} error={errors.change_id} onChange={setProjectId} />
          {plant.isError && !errors.change_id ? <Alert>{describeError(plant.error)}</Alert> : null}
          <Button type="submit" variant="primary" busy={plant.isPending} disabled={!projectId}>
            {t("projects.change.planButton")}
          </Button>
        </form>
      ) : null}
    </Section>
  );
}
