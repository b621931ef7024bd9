import { useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate } from "react-router";
import { api, ok } from "../api/client";
import { Badge, Button, Card, EmptyState, Field, Input, PageHeader, Select, Spinner, Textarea } from "../components/ui";
import { adminKeys, invalidateShared, useAdminTeams } from "./api";
import { EditorStatus, FailureAlert, useEditor } from "./forms";
import type { AssignmentStrategy, TeamRow } from "./types";
import { t } from "../i18n/admin";

export const STRATEGIES: { value: AssignmentStrategy; label: string; help: string }[] = [
  { value: "manual", label: t("admin.teams.manual"), help: t("admin.teams.agentsTakeTicketsThemselves") },
  { value: "round_robin", label: t("admin.teams.roundRobin"), help: t("admin.teams.newTicketsGoTo") },
  { value: "least_open", label: t("admin.teams.fewestOpenTickets"), help: t("admin.teams.newTicketsGoTo2") },
];
export const STRATEGY_LABEL = Object.fromEntries(STRATEGIES.map((s) => [s.value, s.label])) as Record<AssignmentStrategy, string>;

export interface TeamForm {
  name: string;
  description: string;
  assignment_strategy: AssignmentStrategy;
  active: boolean;
}

export function teamForm(team: TeamRow | null): TeamForm {
  return {
    name: team?.name ?? "",
    description: team?.description ?? "",
    assignment_strategy: team?.assignment_strategy ?? "manual",
    active: team?.active ?? true,
  };
}

export function validateTeam(form: TeamForm): Record<string, string> {
  return form.name.trim() ? {} : { name: t("fields.required") };
}

/** Name, description and strategy: shared by the new-team form and the team page. */
export function TeamFields({ form, set, errors }: { form: TeamForm; set: <K extends keyof TeamForm>(k: K, v: TeamForm[K]) => void; errors: Record<string, string> }) {
  const help = STRATEGIES.find((s) => s.value === form.assignment_strategy)?.help;
  return (
    <>
      <Field label={t("admin.teams.name")} required error={errors.name}>
        {(p) => <Input {...p} maxLength={100} value={form.name} onChange={(e) => set("name", e.target.value)} />}
      </Field>
      <Field label={t("admin.teams.description")} error={errors.description}>
        {(p) => <Textarea {...p} rows={2} maxLength={2000} value={form.description} onChange={(e) => set("description", e.target.value)} />}
      </Field>
      <Field label={t("admin.teams.assignmentStrategy")} error={errors.assignment_strategy} description={help}>
        {(p) => (
          <Select {...p} value={form.assignment_strategy} onChange={(e) => set("assignment_strategy", e.target.value as AssignmentStrategy)}>
            {STRATEGIES.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
          </Select>
        )}
      </Field>
    </>
  );
}

function NewTeam() {
  const client = useQueryClient();
  const navigate = useNavigate();
  const editor = useEditor<TeamRow, TeamForm>({
    entity: null,
    toForm: teamForm,
    tag: (item) => String(item.version),
    validate: validateTeam,
    create: (form, key) =>
      ok(
        api.POST("/v1/teams", {
          params: { header: { "Idempotency-Key": key } },
          body: { name: form.name.trim(), description: form.description, assignment_strategy: form.assignment_strategy },
        }),
      ),
    onSaved: (team) => {
      void client.invalidateQueries({ queryKey: adminKeys.teams });
      invalidateShared(client, "teams");
      navigate(`/admin/teams/${team.id}`, { state: { created: true } });
    },
  });
  return (
    <Card aria-labelledby="new-team-heading">
      <h2 id="new-team-heading" className="mb-3 font-semibold">
        {t("admin.teams.newTeam")}
      </h2>
      <form className="space-y-3" onSubmit={editor.submit} noValidate>
        <TeamFields form={editor.form} set={editor.set} errors={editor.errors} />
        <EditorStatus editor={editor} placed={["name", "description", "assignment_strategy"]} />
        <Button type="submit" variant="primary" busy={editor.saving}>
          {t("admin.teams.createTeam")}
        </Button>
      </form>
    </Card>
  );
}

export default function TeamsPage() {
  const teams = useAdminTeams();
  return (
    <>
      <PageHeader title={t("admin.teams.teams")}>{t("admin.teams.whoWorksWhichTickets")}</PageHeader>
      <div className="grid *:min-w-0 gap-6 lg:grid-cols-[1fr_22rem]">
        <Card aria-labelledby="teams-heading">
          <h2 id="teams-heading" className="mb-3 font-semibold">
            {t("admin.teams.allTeams")}
          </h2>
          {teams.isPending ? <Spinner label={t("admin.teams.loadingTeams")} /> : null}
          {teams.isError ? <FailureAlert error={teams.error} /> : null}
          {teams.data && !teams.data.length ? <EmptyState title={t("admin.teams.noTeamsYet")}>{t("admin.teams.createTheFirstOne")}</EmptyState> : null}
          {teams.data?.length ? (
            <ul className="divide-y divide-border" data-testid="team-list">
              {teams.data.map((item) => (
                <li key={item.id} className="flex flex-wrap items-center justify-between gap-2 py-2">
                  <div>
                    <Link to={`/admin/teams/${item.id}`} className="font-medium text-accent-text underline">
                      {item.name}
                    </Link>
                    {item.description ? <p className="text-fg-muted">{item.description}</p> : null}
                  </div>
                  <div className="flex gap-2">
                    <Badge>{STRATEGY_LABEL[item.assignment_strategy]}</Badge>
                    {item.active ? null : <Badge tone="warning">{t("admin.teams.inactive")}</Badge>}
                  </div>
                </li>
              ))}
            </ul>
          ) : null}
        </Card>
        <NewTeam />
      </div>
    </>
  );
}
