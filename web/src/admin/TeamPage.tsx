import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useLocation, useParams } from "react-router";
import { api, etag, ok } from "../api/client";
import { ApiError } from "../api/problem";
import { isStaff } from "../lib/domain";
import { Alert, Badge, Button, Card, Field, PageHeader, Select, Spinner } from "../components/ui";
import { adminKeys, invalidateShared, useTeamDetail } from "./api";
import { Checkbox, ConfirmButton } from "./fields";
import { EditorStatus, FormActions, FailureAlert, useEditor } from "./forms";
import { TeamFields, teamForm, validateTeam, type TeamForm } from "./TeamsPage";
import type { TeamDetail } from "./types";
import { t } from "../i18n/admin";

function TeamEditor({ team }: { team: TeamDetail }) {
  const client = useQueryClient();
  const editor = useEditor<TeamDetail, TeamForm>({
    entity: team,
    toForm: teamForm,
    tag: (item) => etag(item.version),
    validate: validateTeam,
    update: (form, _base, ifMatch) =>
      ok(
        api.PATCH("/v1/teams/{team_id}", {
          params: { path: { team_id: team.id }, header: { "If-Match": ifMatch } },
          body: { name: form.name.trim(), description: form.description, assignment_strategy: form.assignment_strategy, active: form.active },
        }),
      ).then(() => client.fetchQuery({ queryKey: adminKeys.team(team.id), staleTime: 0, queryFn: () => loadTeam(team.id) })),
    reload: () => client.fetchQuery({ queryKey: adminKeys.team(team.id), staleTime: 0, queryFn: () => loadTeam(team.id) }),
    onSaved: () => {
      void client.invalidateQueries({ queryKey: adminKeys.teams });
      invalidateShared(client, "teams");
    },
  });
  return (
    <Card aria-labelledby="team-settings-heading">
      <h2 id="team-settings-heading" className="mb-3 font-semibold">
        {t("admin.team.settings")}
      </h2>
      <form className="space-y-3" onSubmit={editor.submit} noValidate>
        <TeamFields form={editor.form} set={editor.set} errors={editor.errors} />
        <Checkbox
          label={t("admin.team.active")}
          checked={editor.form.active}
          onChange={(v) => editor.set("active", v)}
          error={editor.errors.active}
          description={t("admin.team.anInactiveTeamKeeps")}
        />
        <EditorStatus editor={editor} placed={["name", "description", "assignment_strategy", "active"]} />
        <FormActions editor={editor} saveLabel={t("admin.team.saveTeam")} />
      </form>
    </Card>
  );
}

function loadTeam(id: string): Promise<TeamDetail> {
  return ok(api.GET("/v1/teams/{team_id}", { params: { path: { team_id: id } } }));
}

function Members({ team }: { team: TeamDetail }) {
  const client = useQueryClient();
  const [pick, setPick] = useState("");
  const staff = useQuery({
    queryKey: ["admin", "staff"],
    queryFn: ({ signal }) => ok(api.GET("/v1/users", { params: { query: { limit: 100, active: true } }, signal })),
    select: (page) => page.items.filter((u) => isStaff(u.role)),
  });
  const store = (detail: TeamDetail) => {
    client.setQueryData(adminKeys.team(team.id), detail);
    invalidateShared(client, "teams");
  };
  const add = useMutation({
    mutationFn: (userId: string) => ok(api.PUT("/v1/teams/{team_id}/members/{user_id}", { params: { path: { team_id: team.id, user_id: userId } } })),
    onSuccess: (detail) => {
      store(detail);
      setPick("");
    },
  });
  const remove = useMutation({
    mutationFn: (userId: string) =>
      ok(api.DELETE("/v1/teams/{team_id}/members/{user_id}", { params: { path: { team_id: team.id, user_id: userId } } })),
    onSuccess: () => void client.invalidateQueries({ queryKey: adminKeys.team(team.id) }),
  });
  const members = team.members.filter((m) => m.active);
  const candidates = (staff.data ?? []).filter((u) => !members.some((m) => m.user_id === u.id));
  const addError = add.error instanceof ApiError ? add.error.fieldErrors.user_id : undefined;
  return (
    <Card aria-labelledby="members-heading">
      <h2 id="members-heading" className="mb-3 font-semibold">
        {t("admin.team.members")}
      </h2>
      {members.length ? (
        <ul className="mb-4 divide-y divide-border" data-testid="team-members">
          {members.map((m) => (
            <li key={m.user_id} className="flex flex-wrap items-center justify-between gap-2 py-2">
              <div>
                <span className="font-medium">{m.name}</span> <span className="text-fg-muted">· {m.email}</span>{" "}
                {m.user_active ? null : <Badge tone="warning">{t("admin.team.deactivated")}</Badge>}
              </div>
              <ConfirmButton confirmLabel={t("admin.team.removeName", { name: m.name })} busy={remove.isPending && remove.variables === m.user_id} onConfirm={() => remove.mutate(m.user_id)}>
                {t("admin.team.remove")}
              </ConfirmButton>
            </li>
          ))}
        </ul>
      ) : (
        <p className="mb-4 text-fg-muted">{t("admin.team.noMembersYet")}</p>
      )}
      {remove.isError ? <FailureAlert error={remove.error} /> : null}
      <form
        className="flex flex-wrap items-end gap-2"
        onSubmit={(e) => {
          e.preventDefault();
          if (pick) add.mutate(pick);
        }}
      >
        <Field label={t("admin.team.addAnAgent")} error={addError} className="min-w-56 flex-1">
          {(p) => (
            <Select {...p} value={pick} onChange={(e) => setPick(e.target.value)}>
              <option value="">{t("admin.team.choose")}</option>
              {candidates.map((u) => (
                <option key={u.id} value={u.id}>
                  {u.name} ({u.role})
                </option>
              ))}
            </Select>
          )}
        </Field>
        <Button type="submit" variant="primary" busy={add.isPending} disabled={!pick}>
          {t("admin.team.addMember")}
        </Button>
      </form>
      {add.isError && !addError ? (
        <div className="mt-3">
          <FailureAlert error={add.error} />
        </div>
      ) : null}
    </Card>
  );
}

export default function TeamPage() {
  const { teamId = "" } = useParams();
  const location = useLocation();
  const team = useTeamDetail(teamId);
  if (team.isPending) return <Spinner label={t("admin.team.loadingTheTeam")} />;
  if (team.isError) return <FailureAlert error={team.error} />;
  const created = (location.state as { created?: boolean } | null)?.created;
  return (
    <>
      <p className="mb-2">
        <Link to="/admin/teams" className="text-accent-text underline">
          {t("admin.team.teams")}
        </Link>
      </p>
      <PageHeader title={team.data.name}>{team.data.active ? t("admin.team.activeTeam") : t("admin.team.inactiveTeam")}</PageHeader>
      {created ? (
        <div className="mb-4">
          <Alert tone="success">{t("admin.team.teamCreatedAddIts")}</Alert>
        </div>
      ) : null}
      <div className="grid *:min-w-0 gap-6 lg:grid-cols-2">
        <TeamEditor key={team.data.id} team={team.data} />
        <Members team={team.data} />
      </div>
    </>
  );
}
