import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { ApiError, describeError } from "../api/problem";
import { useMe } from "../auth/AuthProvider";
import { onSubmit } from "../changes/parts";
import { Alert, Badge, Button, Card, Field, Input } from "../components/ui";
import { can } from "../lib/domain";
import { t } from "../i18n/projects";
import { CATEGORY_LABELS, create, paths, projectKeys, useTicketTasks, type Task } from "./api";
import { ProjectChoice } from "./ProjectChoice";

/** On the agent's ticket page: the tasks linked to the ticket, and "Create task from
 * ticket" into a project the agent works in (the ticket's title to start with). */
export function TicketTasks({ ticketId, title }: { ticketId: string; title: string }) {
  const me = useMe();
  const client = useQueryClient();
  const allowed = can(me, "project:use");
  const [open, setOpen] = useState(false);
  const [projectId, setProjectId] = useState("");
  const [name, setName] = useState(title);
  const linked = useTicketTasks(ticketId, allowed);
  const add = useMutation({
    mutationFn: () => create(paths.tasks(projectId), { title: name.trim(), ticket_id: ticketId }) as Promise<Task>,
    onSuccess: () => {
      setOpen(false);
      void client.invalidateQueries({ queryKey: projectKeys.ticket(ticketId) });
      void client.invalidateQueries({ queryKey: ["projects", "one", projectId] });
      void client.invalidateQueries({ queryKey: ["tickets"] });
    },
  });
  if (!allowed) return null;
  const items = linked.data ?? [];
  const errors = add.error instanceof ApiError ? add.error.fieldErrors : {};
  return (
    <Card aria-labelledby="ticket-tasks-heading" className="space-y-2">
      <h2 id="ticket-tasks-heading" className="font-semibold text-fg">
        {t("projects.ticket.heading")}
      </h2>
      {linked.isError ? <Alert>{describeError(linked.error)}</Alert> : null}
      {items.length ? (
        <ul className="space-y-1" data-testid="ticket-tasks">
          {items.map((task) => (
            <li key={task.id} className="flex flex-wrap items-center gap-2">
              <Link to={`/projects/${task.project_id}/tasks/${task.id}`} className="text-accent-text underline">
                {`${task.key}: ${task.title}`}
              </Link>
              <Badge tone={task.status_category === "done" ? "success" : "info"}>{CATEGORY_LABELS[task.status_category]}</Badge>
            </li>
          ))}
        </ul>
      ) : linked.isSuccess ? (
        <p className="text-fg-muted">{t("projects.ticket.none")}</p>
      ) : null}
      <Button size="sm" aria-expanded={open} onClick={() => setOpen(!open)}>
        {t("projects.ticket.create")}
      </Button>
      {open ? (
        <form className="space-y-2" aria-label={t("projects.ticket.create")} onSubmit={onSubmit(() => projectId && name.trim() && add.mutate())}>
          <ProjectChoice value={projectId} error={errors.ticket_id} onChange={setProjectId} />
          <Field label={t("projects.task.title")} required error={errors.title}>
            {(p) => <Input {...p} maxLength={300} value={name} onChange={(e) => setName(e.target.value)} />}
          </Field>
          {add.isError && !errors.title && !errors.ticket_id ? <Alert>{describeError(add.error)}</Alert> : null}
          <Button type="submit" variant="primary" busy={add.isPending} disabled={!projectId || !name.trim()}>
            {t("projects.ticket.createButton")}
          </Button>
        </form>
      ) : null}
    </Card>
  );
}
