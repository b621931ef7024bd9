import { Button, Field, Input, Select } from "../components/ui";
import type { Errors } from "./forms";
import { ACTION_LABELS, TARGET_LABELS, type Action, type EscalationForm, type Target } from "./policyForm";

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
