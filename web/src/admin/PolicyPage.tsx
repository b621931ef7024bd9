import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Link, useLocation, useNavigate, useParams } from "react-router";
import { api, etag, ok } from "../api/client";
import type { Level } from "../api/types";
import { Alert, Button, Card, Field, Input, PageHeader, Select, Spinner } from "../components/ui";
import { ACTIVE_STATUSES } from "../lib/domain";
import { LEVELS, LEVEL_LABELS, SLA_TARGET_LABELS, statusLabel } from "../lib/format";
import { adminKeys, useAdminCategories, useAdminTeams, useCalendars, usePolicies, usePolicy } from "./api";
import { Checkbox, CheckboxGroup, ConfirmButton, EditorStatus, FormActions, FailureAlert, splitList, toInt, useEditor, type Errors } from "./forms";
import { formatMinutes } from "./format";
import type { Escalation, PauseStatus, Policy, PolicyBody } from "./types";

type Target = NonNullable<Escalation["target"]>;
type Action = Escalation["action"];

export const TARGET_LABELS: Record<Target, string> = SLA_TARGET_LABELS;
const ACTION_LABELS: Record<Action, string> = {
  notify_assignee: "Notify the assignee",
  notify_team: "Notify the team",
  notify_managers: "Notify the managers",
  reassign_team: "Move to another team",
  raise_priority: "Raise the priority",
};
/** The clock may pause in any active status (the API takes no other). */
const PAUSE_STATUSES = ACTIVE_STATUSES as readonly PauseStatus[];

interface EscalationForm {
  key: string;
  on: "warning" | "breach";
  threshold: string;
  target: Target | "";
  action: Action;
  team_id: string;
}

interface PolicyForm {
  name: string;
  position: string;
  active: boolean;
  calendar_id: string;
  first_response_minutes: string;
  next_response_minutes: string;
  resolution_minutes: string;
  warning_thresholds: string;
  pause_statuses: PauseStatus[];
  priorities: Level[];
  team_ids: string[];
  category_ids: string[];
  requester_tags: string;
  escalations: EscalationForm[];
}

let escalationCounter = 0;
function escalationKey(): string {
  escalationCounter += 1;
  return `e${escalationCounter}`;
}

function toForm(policy: Policy | null, nextPosition = 0): PolicyForm {
  const c = policy?.conditions;
  return {
    name: policy?.name ?? "",
    position: String(policy?.position ?? nextPosition),
    active: policy?.active ?? true,
    calendar_id: policy?.calendar_id ?? "",
    first_response_minutes: policy?.first_response_minutes ? String(policy.first_response_minutes) : "",
    next_response_minutes: policy?.next_response_minutes ? String(policy.next_response_minutes) : "",
    resolution_minutes: policy?.resolution_minutes ? String(policy.resolution_minutes) : "",
    warning_thresholds: (policy?.warning_thresholds ?? [75, 90]).join(", "),
    pause_statuses: (policy?.pause_statuses as PauseStatus[] | undefined) ?? ["pending"],
    priorities: c?.priorities ?? [],
    team_ids: c?.team_ids ?? [],
    category_ids: c?.category_ids ?? [],
    requester_tags: (c?.requester_tags ?? []).join(", "),
    escalations: (policy?.escalations ?? []).map((e, i) => ({
      key: `saved-${i}`,
      on: e.on,
      threshold: e.threshold ? String(e.threshold) : "",
      target: e.target ?? "",
      action: e.action,
      team_id: e.team_id ?? "",
    })),
  };
}

const MINUTE_FIELDS = [
  ["first_response_minutes", "First response", 525600],
  ["next_response_minutes", "Next response", 525600],
  ["resolution_minutes", "Resolution", 5256000],
] as const;

function validate(form: PolicyForm): Errors {
  const errors: Errors = {};
  if (!form.name.trim()) errors.name = "required";
  const position = toInt(form.position);
  if (position === null || !Number.isInteger(position) || position < 0 || position > 10000) errors.position = "a whole number from 0 to 10000";
  let targets = 0;
  for (const [key, , max] of MINUTE_FIELDS) {
    const text = form[key].trim();
    if (!text) continue;
    const n = toInt(text);
    if (n === null || !Number.isInteger(n) || n <= 0 || n > max) errors[key] = `a whole number of minutes from 1 to ${max}`;
    else targets += 1;
  }
  if (!targets && !Object.keys(errors).some((k) => k.endsWith("_minutes"))) errors.body = "a policy needs at least one target";
  const thresholds = splitList(form.warning_thresholds);
  if (thresholds.length > 5 || thresholds.some((t) => !/^\d+$/.test(t) || Number(t) < 1 || Number(t) > 99))
    errors.warning_thresholds = "up to five percentages between 1 and 99";
  form.escalations.forEach((e, i) => {
    if (e.threshold.trim() && !/^\d+$/.test(e.threshold.trim())) errors[`escalations.${i}.threshold`] = "a percentage between 1 and 99";
    if (e.action === "reassign_team" && !e.team_id) errors[`escalations.${i}.team_id`] = "reassign_team needs team_id";
  });
  return errors;
}

function body(form: PolicyForm): PolicyBody {
  const minutes = (text: string) => (text.trim() ? Number(text.trim()) : null);
  const tags = splitList(form.requester_tags);
  return {
    name: form.name.trim(),
    position: Number(form.position),
    active: form.active,
    calendar_id: form.calendar_id || null,
    first_response_minutes: minutes(form.first_response_minutes),
    next_response_minutes: minutes(form.next_response_minutes),
    resolution_minutes: minutes(form.resolution_minutes),
    warning_thresholds: splitList(form.warning_thresholds).map(Number),
    pause_statuses: form.pause_statuses,
    // An empty list would never match: none ticked means "any".
    conditions: {
      priorities: form.priorities.length ? form.priorities : null,
      team_ids: form.team_ids.length ? form.team_ids : null,
      category_ids: form.category_ids.length ? form.category_ids : null,
      requester_tags: tags.length ? tags : null,
    },
    escalations: form.escalations.map((e) => ({
      on: e.on,
      threshold: e.on === "warning" && e.threshold.trim() ? Number(e.threshold.trim()) : null,
      target: e.target || null,
      action: e.action,
      team_id: e.action === "reassign_team" ? e.team_id || null : null,
    })),
  };
}

function EscalationRow({
  escalation,
  index,
  errors,
  teams,
  onChange,
  onRemove,
}: {
  escalation: EscalationForm;
  index: number;
  errors: Errors;
  teams: { id: string; name: string }[];
  onChange: (e: EscalationForm) => void;
  onRemove: () => void;
}) {
  const where = `escalations.${index}`;
  const set = <K extends keyof EscalationForm>(key: K, value: EscalationForm[K]) => onChange({ ...escalation, [key]: value });
  return (
    <fieldset className="min-w-0 rounded-md border border-border p-3">
      <legend className="px-1 font-medium">Escalation {index + 1}</legend>
      {errors[where] ? <p className="mb-2 font-medium text-danger-text">{errors[where]}</p> : null}
      <div className="grid *:min-w-0 gap-3 sm:grid-cols-2 lg:grid-cols-5">
        <Field label="When" error={errors[`${where}.on`]}>
          {(p) => (
            <Select {...p} value={escalation.on} onChange={(e) => set("on", e.target.value as EscalationForm["on"])}>
              <option value="warning">At a warning</option>
              <option value="breach">At the breach</option>
            </Select>
          )}
        </Field>
        <Field label="Warning level (%)" error={errors[`${where}.threshold`]} description={escalation.on === "warning" ? "Empty: any warning." : "Only for warnings."}>
          {(p) => (
            <Input {...p} inputMode="numeric" disabled={escalation.on !== "warning"} value={escalation.threshold} onChange={(e) => set("threshold", e.target.value)} />
          )}
        </Field>
        <Field label="Target" error={errors[`${where}.target`]}>
          {(p) => (
            <Select {...p} value={escalation.target} onChange={(e) => set("target", e.target.value as EscalationForm["target"])}>
              <option value="">Any target</option>
              {(Object.keys(TARGET_LABELS) as Target[]).map((t) => (
                <option key={t} value={t}>
                  {TARGET_LABELS[t]}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <Field label="Action" error={errors[`${where}.action`]}>
          {(p) => (
            <Select {...p} value={escalation.action} onChange={(e) => set("action", e.target.value as Action)}>
              {(Object.keys(ACTION_LABELS) as Action[]).map((a) => (
                <option key={a} value={a}>
                  {ACTION_LABELS[a]}
                </option>
              ))}
            </Select>
          )}
        </Field>
        {escalation.action === "reassign_team" ? (
          <Field label="To team" error={errors[`${where}.team_id`]}>
            {(p) => (
              <Select {...p} value={escalation.team_id} onChange={(e) => set("team_id", e.target.value)}>
                <option value="">Choose…</option>
                {teams.map((t) => (
                  <option key={t.id} value={t.id}>
                    {t.name}
                  </option>
                ))}
              </Select>
            )}
          </Field>
        ) : null}
      </div>
      <Button size="sm" variant="ghost" className="mt-2" onClick={onRemove}>
        Remove escalation {index + 1}
      </Button>
    </fieldset>
  );
}

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
