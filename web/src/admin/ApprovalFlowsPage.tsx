import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, idempotencyKey, ok } from "../api/client";
import { ApiError, describeError } from "../api/problem";
import type { components } from "../api/schema";
import { Alert, Badge, Button, Card, Field, Input, PageHeader, Select, Spinner, Textarea } from "../components/ui";
import { useAdminTeams } from "./api";
import { Checkbox } from "./fields";
import { UserPicker } from "../components/UserPicker";
import { t } from "../i18n/admin";

type Flow = components["schemas"]["FlowPublic"];
type StageSpec = components["schemas"]["StageSpec"];
type Rule = StageSpec["rule"];
type ApproverRole = "agent" | "manager" | "admin";

interface StageForm {
  name: string;
  rule: Rule;
  quorum: string;
  role: "" | ApproverRole;
  team_id: string;
  users: string[];
  requester_manager: boolean;
  due_hours: string;
}

interface FlowForm {
  name: string;
  description: string;
  escalation_role: "" | ApproverRole;
  stages: StageForm[];
}

const EMPTY_STAGE: StageForm = { name: "", rule: "any", quorum: "", role: "", team_id: "", users: [], requester_manager: true, due_hours: "" };
const KEY = ["approval-flows"] as const;

function toForm(flow: Flow | null): FlowForm {
  return {
    name: flow?.name ?? "",
    description: flow?.description ?? "",
    escalation_role: (flow?.escalation_role ?? "") as FlowForm["escalation_role"],
    stages: flow
      ? flow.stages.map((s) => ({
          name: s.name,
          rule: s.rule ?? "any",
          quorum: s.quorum ? String(s.quorum) : "",
          role: (s.approvers.role ?? "") as StageForm["role"],
          team_id: s.approvers.team_id ?? "",
          users: [...(s.approvers.users ?? [])],
          requester_manager: s.approvers.requester_manager ?? false,
          due_hours: s.due_hours ? String(s.due_hours) : "",
        }))
      : [{ ...EMPTY_STAGE, name: t("admin.approvalFlows.firstStage") }],
  };
}

function body(form: FlowForm) {
  return {
    name: form.name.trim(),
    description: form.description,
    escalation_role: form.escalation_role || null,
    stages: form.stages.map((s) => ({
      name: s.name.trim(),
      rule: s.rule,
      quorum: s.rule === "quorum" ? Number(s.quorum) || 1 : null,
      due_hours: s.due_hours ? Number(s.due_hours) : null,
      approvers: {
        users: s.users,
        role: s.role || null,
        team_id: s.team_id || null,
        requester_manager: s.requester_manager,
      },
    })),
  };
}

/** A stage's approver-user errors (the list, or any one of its ids). */
function usersError(errors: Record<string, string>, i: number): string | undefined {
  const prefix = `stages.${i}.approvers.users`;
  const own = Object.entries(errors).find(([k]) => k === prefix || k.startsWith(`${prefix}.`));
  return own?.[1] ?? errors[`stages.${i}.approvers`];
}

function FlowEditor({ flow, onDone }: { flow: Flow | null; onDone: () => void }) {
  const client = useQueryClient();
  const teams = useAdminTeams();
  const [form, setForm] = useState<FlowForm>(() => toForm(flow));
  const save = useMutation({
    mutationFn: () =>
      flow
        ? ok(api.PATCH("/v1/approvals/flows/{flow_id}", { params: { path: { flow_id: flow.id } }, body: { ...body(form), version: flow.version } }))
        : ok(api.POST("/v1/approvals/flows", { params: { header: { "Idempotency-Key": idempotencyKey() } }, body: body(form) })),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: KEY });
      onDone();
    },
  });
  const errors: Record<string, string> = save.error instanceof ApiError ? save.error.fieldErrors : {};
  const setStage = (i: number, patch: Partial<StageForm>) =>
    setForm((f) => ({ ...f, stages: f.stages.map((s, j) => (j === i ? { ...s, ...patch } : s)) }));
  return (
    <form
      className="space-y-4"
      aria-label={flow ? t("admin.approvalFlows.edit") : t("admin.approvalFlows.new")}
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate();
      }}
    >
      <Card className="space-y-3">
        <Field label={t("admin.approvalFlows.name")} required error={errors.name}>
          {(p) => <Input {...p} maxLength={120} value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />}
        </Field>
        <Field label={t("admin.approvalFlows.description")} error={errors.description}>
          {(p) => <Textarea {...p} rows={2} maxLength={2000} value={form.description} onChange={(e) => setForm({ ...form, description: e.target.value })} />}
        </Field>
        <Field label={t("admin.approvalFlows.escalationRole")} description={t("admin.approvalFlows.escalationHelp")} error={errors.escalation_role}>
          {(p) => (
            <Select {...p} value={form.escalation_role} onChange={(e) => setForm({ ...form, escalation_role: e.target.value as FlowForm["escalation_role"] })}>
              <option value="">{t("admin.approvalFlows.admins")}</option>
              <option value="manager">{t("admin.approvalFlows.role.manager")}</option>
              <option value="agent">{t("admin.approvalFlows.role.agent")}</option>
              <option value="admin">{t("admin.approvalFlows.role.admin")}</option>
            </Select>
          )}
        </Field>
      </Card>
      {form.stages.map((stage, i) => (
        <Card key={i} className="space-y-3" aria-label={t("admin.approvalFlows.stageN", { n: i + 1 })}>
          <h3 className="font-semibold text-fg">{t("admin.approvalFlows.stageN", { n: i + 1 })}</h3>
          <Field label={t("admin.approvalFlows.stageName")} required error={errors[`stages.${i}.name`]}>
            {(p) => <Input {...p} maxLength={120} value={stage.name} onChange={(e) => setStage(i, { name: e.target.value })} />}
          </Field>
          <div className="grid gap-3 sm:grid-cols-3">
            <Field label={t("admin.approvalFlows.rule")} error={errors[`stages.${i}.rule`]}>
              {(p) => (
                <Select {...p} value={stage.rule} onChange={(e) => setStage(i, { rule: e.target.value as Rule })}>
                  <option value="any">{t("admin.approvalFlows.rule.any")}</option>
                  <option value="all">{t("admin.approvalFlows.rule.all")}</option>
                  <option value="quorum">{t("admin.approvalFlows.rule.quorum")}</option>
                </Select>
              )}
            </Field>
            {stage.rule === "quorum" ? (
              <Field label={t("admin.approvalFlows.quorum")} error={errors[`stages.${i}.quorum`]}>
                {(p) => <Input {...p} type="number" min={1} max={50} value={stage.quorum} onChange={(e) => setStage(i, { quorum: e.target.value })} />}
              </Field>
            ) : null}
            <Field label={t("admin.approvalFlows.dueHours")} error={errors[`stages.${i}.due_hours`]}>
              {(p) => <Input {...p} type="number" min={1} max={8760} value={stage.due_hours} onChange={(e) => setStage(i, { due_hours: e.target.value })} />}
            </Field>
          </div>
          <div className="grid gap-3 sm:grid-cols-2">
            <Field label={t("admin.approvalFlows.approverRole")} error={errors[`stages.${i}.approvers.role`]}>
              {(p) => (
                <Select {...p} value={stage.role} onChange={(e) => setStage(i, { role: e.target.value as StageForm["role"] })}>
                  <option value="">{t("admin.approvalFlows.noRole")}</option>
                  <option value="manager">{t("admin.approvalFlows.role.manager")}</option>
                  <option value="agent">{t("admin.approvalFlows.role.agent")}</option>
                  <option value="admin">{t("admin.approvalFlows.role.admin")}</option>
                </Select>
              )}
            </Field>
            <Field label={t("admin.approvalFlows.team")} error={errors[`stages.${i}.approvers.team_id`]}>
              {(p) => (
                <Select {...p} value={stage.team_id} onChange={(e) => setStage(i, { team_id: e.target.value })}>
                  <option value="">{t("admin.approvalFlows.noTeam")}</option>
                  {(teams.data ?? []).filter((tm) => tm.active).map((tm) => (
                    <option key={tm.id} value={tm.id}>
                      {tm.name}
                    </option>
                  ))}
                </Select>
              )}
            </Field>
          </div>
          <UserPicker
            label={t("admin.approvalFlows.usersN", { n: i + 1 })}
            description={t("admin.approvalFlows.usersHelp")}
            multiple
            max={50}
            value={stage.users}
            onChange={(users) => setStage(i, { users })}
            error={usersError(errors, i)}
          />
          <Checkbox label={t("admin.approvalFlows.requesterManager")} checked={stage.requester_manager} onChange={(v) => setStage(i, { requester_manager: v })} />
          {form.stages.length > 1 ? (
            <Button variant="ghost" onClick={() => setForm((f) => ({ ...f, stages: f.stages.filter((_, j) => j !== i) }))}>
              {t("admin.approvalFlows.removeStage")}
            </Button>
          ) : null}
        </Card>
      ))}
      <Button onClick={() => setForm((f) => ({ ...f, stages: [...f.stages, { ...EMPTY_STAGE, name: t("admin.approvalFlows.stageN", { n: f.stages.length + 1 }) }] }))}>
        {t("admin.approvalFlows.addStage")}
      </Button>
      {save.isError ? <Alert>{describeError(save.error)}</Alert> : null}
      <div className="flex gap-2">
        <Button type="submit" variant="primary" busy={save.isPending}>
          {t("admin.approvalFlows.save")}
        </Button>
        <Button onClick={onDone}>{t("admin.approvalFlows.cancel")}</Button>
      </div>
    </form>
  );
}

/** /admin/approval-flows (managers and admins): the flows a catalog category may require,
 * each a list of stages with their rule, approvers and due time (docs/approvals.md). */
export default function ApprovalFlowsPage() {
  const flows = useQuery({ queryKey: KEY, queryFn: ({ signal }) => ok(api.GET("/v1/approvals/flows", { params: { query: { limit: 100 } }, signal })) });
  const [editing, setEditing] = useState<Flow | "new" | null>(null);
  return (
    <>
      <PageHeader
        title={t("admin.approvalFlows.title")}
        actions={
          editing ? null : (
            <Button variant="primary" onClick={() => setEditing("new")}>
              {t("admin.approvalFlows.new")}
            </Button>
          )
        }
      >
        {t("admin.approvalFlows.intro")}
      </PageHeader>
      {editing ? <FlowEditor key={editing === "new" ? "new" : editing.id} flow={editing === "new" ? null : editing} onDone={() => setEditing(null)} /> : null}
      {flows.isPending ? <Spinner /> : null}
      {flows.isError ? <Alert>{describeError(flows.error)}</Alert> : null}
      {!editing && flows.data ? (
        <ul className="divide-y divide-border rounded-md border border-border bg-surface" aria-label={t("admin.approvalFlows.title")}>
          {flows.data.items.length === 0 ? <li className="px-4 py-3 text-fg-muted">{t("admin.approvalFlows.none")}</li> : null}
          {flows.data.items.map((flow) => (
            <li key={flow.id} className="flex flex-wrap items-center gap-3 px-4 py-3">
              <div className="min-w-0 flex-1">
                <p className="font-medium text-fg">{flow.name}</p>
                <p className="text-fg-muted">{flow.stages.map((s) => s.name).join(" → ")}</p>
              </div>
              {flow.active ? null : <Badge>{t("admin.approvalFlows.inactive")}</Badge>}
              <Button onClick={() => setEditing(flow)}>{t("admin.approvalFlows.editNamed", { name: flow.name })}</Button>
            </li>
          ))}
        </ul>
      ) : null}
    </>
  );
}
