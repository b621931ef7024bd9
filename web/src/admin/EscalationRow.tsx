import { Button, Field, Input, Select } from "../components/ui";
import type { Errors } from "./forms";
import { ACTION_LABELS, TARGET_LABELS, type Action, type EscalationForm, type Target } from "./policyForm";
import { t } from "../i18n/admin";

/** One escalation of an SLA policy: when (warning or breach, at which level, for which target) and what to do. */
export function EscalationRow({
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
      <legend className="px-1 font-medium">{t("admin.escalationRow.escalationValue", { value: index + 1 })}</legend>
      {errors[where] ? <p className="mb-2 font-medium text-danger-text">{errors[where]}</p> : null}
      <div className="grid *:min-w-0 gap-3 sm:grid-cols-2 lg:grid-cols-5">
        <Field label={t("admin.escalationRow.when")} error={errors[`${where}.on`]}>
          {(p) => (
            <Select {...p} value={escalation.on} onChange={(e) => set("on", e.target.value as EscalationForm["on"])}>
              <option value="warning">{t("admin.escalationRow.atAWarning")}</option>
              <option value="breach">{t("admin.escalationRow.atTheBreach")}</option>
            </Select>
          )}
        </Field>
        <Field label={t("admin.escalationRow.warningLevel")} error={errors[`${where}.threshold`]} description={escalation.on === "warning" ? t("admin.escalationRow.emptyAnyWarning") : t("admin.escalationRow.onlyForWarnings")}>
          {(p) => (
            <Input {...p} inputMode="numeric" disabled={escalation.on !== "warning"} value={escalation.threshold} onChange={(e) => set("threshold", e.target.value)} />
          )}
        </Field>
        <Field label={t("admin.escalationRow.target")} error={errors[`${where}.target`]}>
          {(p) => (
            <Select {...p} value={escalation.target} onChange={(e) => set("target", e.target.value as EscalationForm["target"])}>
              <option value="">{t("admin.escalationRow.anyTarget")}</option>
              {(Object.keys(TARGET_LABELS) as Target[]).map((item) => (
                <option key={item} value={item}>
                  {TARGET_LABELS[item]}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <Field label={t("admin.escalationRow.action")} error={errors[`${where}.action`]}>
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
          <Field label={t("admin.escalationRow.toTeam")} error={errors[`${where}.team_id`]}>
            {(p) => (
              <Select {...p} value={escalation.team_id} onChange={(e) => set("team_id", e.target.value)}>
                <option value="">{t("admin.escalationRow.choose")}</option>
                {teams.map((item) => (
                  <option key={item.id} value={item.id}>
                    {item.name}
                  </option>
                ))}
              </Select>
            )}
          </Field>
        ) : null}
      </div>
      <Button size="sm" variant="ghost" className="mt-2" onClick={onRemove}>{t("admin.escalationRow.removeEscalationValue", { value: index + 1 })}</Button>
    </fieldset>
  );
}
