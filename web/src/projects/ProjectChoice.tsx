import { useMe } from "../auth/AuthProvider";
import { Choice } from "../changes/parts";
import { can } from "../lib/domain";
import { t } from "../i18n/projects";
import { mayEdit, useProjects } from "./api";

/** The projects the caller may add tasks to (asked for only once shown), to choose one. */
export function ProjectChoice({ value, error, onChange }: { value: string; error?: string | undefined; onChange: (id: string) => void }) {
  const me = useMe();
  const projects = useProjects({ q: "", status: "", archived: false }, can(me, "project:use"));
  const writable = (projects.data ?? []).filter((p) => mayEdit(p.my_role, can(me, "project:manage_all")));
  return (
    <Choice
      label={t("projects.ticket.project")}
      value={value}
      empty={t("projects.ticket.chooseProject")}
      options={writable.map((p) => [p.id, `${p.key}: ${p.name}`] as const)}
      required
      error={error}
      onChange={onChange}
    />
  );
}
