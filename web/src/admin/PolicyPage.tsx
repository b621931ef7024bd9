import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Link, useLocation, useNavigate, useParams } from "react-router";
import { api, etag, ok } from "../api/client";
import { Alert, Button, Card, Field, Input, PageHeader, Select, Spinner } from "../components/ui";
import { LEVELS, LEVEL_LABELS, statusLabel } from "../lib/format";
import { adminKeys, useAdminCategories, useAdminTeams, useCalendars, usePolicies, usePolicy } from "./api";
import { EscalationRow } from "./EscalationRow";
import { Checkbox, CheckboxGroup, ConfirmButton, toInt } from "./fields";
import { EditorStatus, FormActions, FailureAlert, useEditor } from "./forms";
import { formatMinutes } from "./format";
import { MINUTE_FIELDS, PAUSE_STATUSES, body, escalationKey, toForm, validate, type PolicyForm } from "./policyForm";
import type { Policy } from "./types";

function PolicyEditor({ policy, nextPosition }: { policy: Policy | null; nextPosition: number }) {
  const client = useQueryClient();
  const navigate = useNavigate();
  const calendars = useCalendars();
  const teams = useAdminTeams();
  const categories = useAdminCategories();
  const load = (id: string) => ok(api.GET("/v1/sla-policies/{policy_id}", { params: { path: { policy_id: id } } }));
  const editor = useEditor<Policy, PolicyForm>({
    entity: policy,
    toForm: (p) => toForm(p, nextPosition),
    tag: (p) => etag(p.version),
    validate,
    compare: (f) => ({ ...f, escalations: f.escalations.map(({ key: _key, ...rest }) => rest) }),
    create: (form, key) => ok(api.POST("/v1/sla-policies", { params: { header: { "Idempotency-Key": key } }, body: body(form) })),
    update: (form, base, ifMatch) =>
      ok(api.PUT("/v1/sla-policies/{policy_id}", { params: { path: { policy_id: base.id }, header: { "If-Match": ifMatch } }, body: body(form) })),
    reload: policy ? () => client.fetchQuery({ queryKey: adminKeys.policy(policy.id), staleTime: 0, queryFn: () => load(policy.id) }) : undefined,
    onSaved: (saved, created) => {
      client.setQueryData(adminKeys.policy(saved.id), saved);
      void client.invalidateQueries({ queryKey: adminKeys.policies });
      if (created) navigate(`/admin/sla-policies/${saved.id}`, { replace: true, state: { created: true } });
    },
  });
  const deactivate = useMutation({
    mutationFn: (id: string) => ok(api.DELETE("/v1/sla-policies/{policy_id}", { params: { path: { policy_id: id } } })),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: adminKeys.policies });
      navigate("/admin/sla-policies", { replace: true });
    },
  });
  const { form, set, errors } = editor;
  const teamList = (teams.data ?? []).map((t) => ({ id: t.id, name: t.name }));
  const targetsError = errors.body;
  return (
    <form className="space-y-6" onSubmit={editor.submit} noValidate>
      <Card className="grid *:min-w-0 gap-3 sm:grid-cols-2">
        <Field label="Name" required error={errors.name}>
          {(p) => <Input {...p} maxLength={100} value={form.name} onChange={(e) => set("name", e.target.value)} />}
        </Field>
        <Field label="Position" error={errors.position} description="Policies are tried lowest first; the first that matches a ticket applies.">
          {(p) => <Input {...p} inputMode="numeric" value={form.position} onChange={(e) => set("position", e.target.value)} />}
        </Field>
        <Field label="Calendar" error={errors.calendar_id} description="The clock runs only in its working hours.">
          {(p) => (
            <Select {...p} value={form.calendar_id} onChange={(e) => set("calendar_id", e.target.value)}>
              <option value="">Around the clock (24×7)</option>
              {(calendars.data ?? []).map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name} ({c.timezone})
                </option>
              ))}
            </Select>
          )}
        </Field>
        <div className="flex items-end pb-2">
          <Checkbox label="Active" checked={form.active} onChange={(v) => set("active", v)} error={errors.active} />
        </div>
      </Card>

      <Card>
        <fieldset className="min-w-0 space-y-3" aria-describedby={targetsError ? "targets-error" : undefined}>
          <legend className="mb-1 font-semibold">Targets</legend>
          <p className="text-fg-muted">In business minutes of the calendar. Leave a target empty to not measure it.</p>
          <div className="grid *:min-w-0 gap-3 sm:grid-cols-3">
            {MINUTE_FIELDS.map(([key, label]) => {
              const n = toInt(form[key]);
              return (
                <Field key={key} label={`${label} (minutes)`} error={errors[key]} description={n && n > 0 ? `= ${formatMinutes(n)}` : undefined}>
                  {(p) => <Input {...p} inputMode="numeric" value={form[key]} onChange={(e) => set(key, e.target.value)} />}
                </Field>
              );
            })}
          </div>
          {targetsError ? (
            <p id="targets-error" className="font-medium text-danger-text">
              {targetsError}
            </p>
          ) : null}
          <Field label="Warning thresholds (%)" error={errors.warning_thresholds} description="Warn when this share of a target's time has passed, e.g. 75, 90.">
            {(p) => <Input {...p} value={form.warning_thresholds} onChange={(e) => set("warning_thresholds", e.target.value)} />}
          </Field>
          <CheckboxGroup
            legend="Pause the clock while the ticket is"
            options={PAUSE_STATUSES.map((s) => ({ value: s, label: statusLabel(s, true) }))}
            value={form.pause_statuses}
            onChange={(v) => set("pause_statuses", v)}
            error={errors.pause_statuses}
          />
        </fieldset>
      </Card>

      <Card>
        <fieldset className="min-w-0 space-y-4">
          <legend className="mb-1 font-semibold">Applies to</legend>
          <p className="text-fg-muted">Tickets that match every list with something ticked. Nothing ticked in a list: any.</p>
          <CheckboxGroup
            legend="Priorities"
            options={LEVELS.map((l) => ({ value: l, label: LEVEL_LABELS[l] }))}
            value={form.priorities}
            onChange={(v) => set("priorities", v)}
            error={errors["conditions.priorities"]}
          />
          <CheckboxGroup
            legend="Teams"
            columns
            options={teamList.map((t) => ({ value: t.id, label: t.name }))}
            value={form.team_ids}
            onChange={(v) => set("team_ids", v)}
            error={errors["conditions.team_ids"] ?? Object.entries(errors).find(([k]) => k.startsWith("conditions.team_ids."))?.[1]}
            description={teamList.length ? undefined : "No teams yet."}
          />
          <CheckboxGroup
            legend="Categories"
            columns
            options={(categories.data ?? []).map((c) => ({ value: c.id, label: c.active ? c.name : `${c.name} (inactive)` }))}
            value={form.category_ids}
            onChange={(v) => set("category_ids", v)}
            error={errors["conditions.category_ids"] ?? Object.entries(errors).find(([k]) => k.startsWith("conditions.category_ids."))?.[1]}
            description={categories.data?.length ? undefined : "No categories yet."}
          />
          <Field label="Requester tags" error={errors["conditions.requester_tags"]} description="Separate with commas, e.g. vip.">
            {(p) => <Input {...p} value={form.requester_tags} onChange={(e) => set("requester_tags", e.target.value)} />}
          </Field>
        </fieldset>
      </Card>

      <Card>
        <fieldset className="min-w-0 space-y-3">
          <legend className="mb-1 font-semibold">Escalations</legend>
          {form.escalations.length ? null : <p className="text-fg-muted">None: warnings and breaches only show on the ticket.</p>}
          {form.escalations.map((e, i) => (
            <EscalationRow
              key={e.key}
              escalation={e}
              index={i}
              errors={errors}
              teams={teamList}
              onChange={(next) => set("escalations", form.escalations.map((x, j) => (j === i ? next : x)))}
              onRemove={() => set("escalations", form.escalations.filter((_, j) => j !== i))}
            />
          ))}
          <Button
            size="sm"
            disabled={form.escalations.length >= 20}
            onClick={() => set("escalations", [...form.escalations, { key: escalationKey(), on: "breach", threshold: "", target: "", action: "notify_managers", team_id: "" }])}
          >
            Add an escalation
          </Button>
        </fieldset>
      </Card>

      <div className="space-y-3">
        <EditorStatus
          editor={editor}
          placed={["name", "position", "calendar_id", "active", "body", "first_response_minutes", "next_response_minutes", "resolution_minutes", "warning_thresholds", "pause_statuses", "conditions", "escalations"]}
          savedText={policy ? "Saved." : "Policy created."}
        />
        {deactivate.isError ? <FailureAlert error={deactivate.error} /> : null}
        <FormActions editor={editor} creating={policy === null} saveLabel={policy ? "Save policy" : "Create policy"}>
          {policy?.active ? (
            <ConfirmButton size="md" confirmLabel="Deactivate this policy" busy={deactivate.isPending} onConfirm={() => deactivate.mutate(policy.id)}>
              Deactivate
            </ConfirmButton>
          ) : null}
        </FormActions>
      </div>
    </form>
  );
}

export default function PolicyPage() {
  const { policyId = "" } = useParams();
  const location = useLocation();
  const creating = policyId === "new";
  const policy = usePolicy(creating ? "" : policyId);
  const all = usePolicies();
  const created = (location.state as { created?: boolean } | null)?.created;
  const nextPosition = Math.max(-10, ...(all.data ?? []).map((p) => p.position)) + 10;
  return (
    <>
      <p className="mb-2">
        <Link to="/admin/sla-policies" className="text-accent-text underline">
          ← SLA policies
        </Link>
      </p>
      {creating ? (
        all.isPending ? (
          <Spinner label="Loading" />
        ) : (
          <>
            <PageHeader title="New SLA policy">Targets for first response and resolution, for the tickets it applies to.</PageHeader>
            <PolicyEditor policy={null} nextPosition={Math.min(nextPosition, 10000)} />
          </>
        )
      ) : policy.isPending ? (
        <Spinner label="Loading the policy" />
      ) : policy.isError ? (
        <FailureAlert error={policy.error} />
      ) : (
        <>
          <PageHeader title={policy.data.name}>{policy.data.active ? `Active · position ${policy.data.position}` : "Inactive"}</PageHeader>
          {created ? (
            <div className="mb-4">
              <Alert tone="success">Policy created. It applies to new tickets that match it.</Alert>
            </div>
          ) : null}
          <PolicyEditor key={policy.data.id} policy={policy.data} nextPosition={policy.data.position} />
        </>
      )}
    </>
  );
}
