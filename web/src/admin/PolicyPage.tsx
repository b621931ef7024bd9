import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Link, useLocation, useNavigate, useParams } from "react-router";
import { api, etag, ok } from "../api/client";
import { Alert, Button, Card, Field, Input, PageHeader, Select, Spinner } from "../components/ui";
import { LEVELS, LEVEL_LABELS, statusLabel, SLA_TARGET_LABELS } from "../lib/format";
import { adminKeys, useAdminCategories, useAdminTeams, useCalendars, usePolicies, usePolicy } from "./api";
import { EscalationRow } from "./EscalationRow";
import { Checkbox, CheckboxGroup, ConfirmButton, toInt } from "./fields";
import { EditorStatus, FormActions, FailureAlert, useEditor } from "./forms";
import { formatMinutes } from "./format";
import { MINUTE_FIELDS, PAUSE_STATUSES, body, escalationKey, toForm, validate, type PolicyForm } from "./policyForm";
import type { Policy } from "./types";
import { t } from "../i18n/admin";

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
  const teamList = (teams.data ?? []).map((item) => ({ id: item.id, name: item.name }));
  const targetsError = errors.body;
  return (
    <form className="space-y-6" onSubmit={editor.submit} noValidate>
      <Card className="grid *:min-w-0 gap-3 sm:grid-cols-2">
        <Field label={t("admin.policy.name")} required error={errors.name}>
          {(p) => <Input {...p} maxLength={100} value={form.name} onChange={(e) => set("name", e.target.value)} />}
        </Field>
        <Field label={t("admin.policy.position")} error={errors.position} description={t("admin.policy.policiesAreTriedLowest")}>
          {(p) => <Input {...p} inputMode="numeric" value={form.position} onChange={(e) => set("position", e.target.value)} />}
        </Field>
        <Field label={t("admin.policy.calendar")} error={errors.calendar_id} description={t("admin.policy.theClockRunsOnly")}>
          {(p) => (
            <Select {...p} value={form.calendar_id} onChange={(e) => set("calendar_id", e.target.value)}>
              <option value="">{t("admin.policy.aroundTheClock24")}</option>
              {(calendars.data ?? []).map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name} ({c.timezone})
                </option>
              ))}
            </Select>
          )}
        </Field>
        <div className="flex items-end pb-2">
          <Checkbox label={t("admin.policy.active")} checked={form.active} onChange={(v) => set("active", v)} error={errors.active} />
        </div>
      </Card>

      <Card>
        <fieldset className="min-w-0 space-y-3" aria-describedby={targetsError ? "targets-error" : undefined}>
          <legend className="mb-1 font-semibold">{t("admin.policy.targets")}</legend>
          <p className="text-fg-muted">{t("admin.policy.inBusinessMinutesOf")}</p>
          <div className="grid *:min-w-0 gap-3 sm:grid-cols-3">
            {MINUTE_FIELDS.map(([key, target]) => {
              const n = toInt(form[key]);
              return (
                <Field key={key} label={t("admin.policy.labelMinutes", { label: SLA_TARGET_LABELS[target] })} error={errors[key]} description={n && n > 0 ? t("admin.policy.n", { n: formatMinutes(n) }) : undefined}>
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
          <Field label={t("admin.policy.warningThresholds")} error={errors.warning_thresholds} description={t("admin.policy.warnWhenThisShare")}>
            {(p) => <Input {...p} value={form.warning_thresholds} onChange={(e) => set("warning_thresholds", e.target.value)} />}
          </Field>
          <CheckboxGroup
            legend={t("admin.policy.pauseTheClockWhile")}
            options={PAUSE_STATUSES.map((s) => ({ value: s, label: statusLabel(s, true) }))}
            value={form.pause_statuses}
            onChange={(v) => set("pause_statuses", v)}
            error={errors.pause_statuses}
          />
        </fieldset>
      </Card>

      <Card>
        <fieldset className="min-w-0 space-y-4">
          <legend className="mb-1 font-semibold">{t("admin.policy.appliesTo")}</legend>
          <p className="text-fg-muted">{t("admin.policy.ticketsThatMatchEvery")}</p>
          <CheckboxGroup
            legend={t("admin.policy.priorities")}
            options={LEVELS.map((l) => ({ value: l, label: LEVEL_LABELS[l] }))}
            value={form.priorities}
            onChange={(v) => set("priorities", v)}
            error={errors["conditions.priorities"]}
          />
          <CheckboxGroup
            legend={t("admin.policy.teams")}
            columns
            options={teamList.map((item) => ({ value: item.id, label: item.name }))}
            value={form.team_ids}
            onChange={(v) => set("team_ids", v)}
            error={errors["conditions.team_ids"] ?? Object.entries(errors).find(([k]) => k.startsWith("conditions.team_ids."))?.[1]}
            description={teamList.length ? undefined : t("admin.policy.noTeamsYet")}
          />
          <CheckboxGroup
            legend={t("admin.policy.categories")}
            columns
            options={(categories.data ?? []).map((c) => ({ value: c.id, label: c.active ? c.name : t("admin.policy.nameInactive", { name: c.name }) }))}
            value={form.category_ids}
            onChange={(v) => set("category_ids", v)}
            error={errors["conditions.category_ids"] ?? Object.entries(errors).find(([k]) => k.startsWith("conditions.category_ids."))?.[1]}
            description={categories.data?.length ? undefined : t("admin.policy.noCategoriesYet")}
          />
          <Field label={t("admin.policy.requesterTags")} error={errors["conditions.requester_tags"]} description={t("admin.policy.separateWithCommasE")}>
            {(p) => <Input {...p} value={form.requester_tags} onChange={(e) => set("requester_tags", e.target.value)} />}
          </Field>
        </fieldset>
      </Card>

      <Card>
        <fieldset className="min-w-0 space-y-3">
          <legend className="mb-1 font-semibold">{t("admin.policy.escalations")}</legend>
          {form.escalations.length ? null : <p className="text-fg-muted">{t("admin.policy.noneWarningsAndBreaches")}</p>}
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
            {t("admin.policy.addAnEscalation")}
          </Button>
        </fieldset>
      </Card>

      <div className="space-y-3">
        <EditorStatus
          editor={editor}
          placed={["name", "position", "calendar_id", "active", "body", "first_response_minutes", "next_response_minutes", "resolution_minutes", "warning_thresholds", "pause_statuses", "conditions", "escalations"]}
          savedText={policy ? t("admin.policy.saved") : t("admin.policy.policyCreated")}
        />
        {deactivate.isError ? <FailureAlert error={deactivate.error} /> : null}
        <FormActions editor={editor} creating={policy === null} saveLabel={policy ? t("admin.policy.savePolicy") : t("admin.policy.createPolicy")}>
          {policy?.active ? (
            <ConfirmButton size="md" confirmLabel={t("admin.policy.deactivateThisPolicy")} busy={deactivate.isPending} onConfirm={() => deactivate.mutate(policy.id)}>
              {t("admin.policy.deactivate")}
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
          {t("admin.policy.slaPolicies")}
        </Link>
      </p>
      {creating ? (
        all.isPending ? (
          <Spinner label={t("admin.policy.loading")} />
        ) : (
          <>
            <PageHeader title={t("admin.policy.newSlaPolicy")}>{t("admin.policy.targetsForFirstResponse")}</PageHeader>
            <PolicyEditor policy={null} nextPosition={Math.min(nextPosition, 10000)} />
          </>
        )
      ) : policy.isPending ? (
        <Spinner label={t("admin.policy.loadingThePolicy")} />
      ) : policy.isError ? (
        <FailureAlert error={policy.error} />
      ) : (
        <>
          <PageHeader title={policy.data.name}>{policy.data.active ? t("admin.policy.activePositionPosition", { position: policy.data.position }) : t("admin.policy.inactive")}</PageHeader>
          {created ? (
            <div className="mb-4">
              <Alert tone="success">{t("admin.policy.policyCreatedItApplies")}</Alert>
            </div>
          ) : null}
          <PolicyEditor key={policy.data.id} policy={policy.data} nextPosition={policy.data.position} />
        </>
      )}
    </>
  );
}
