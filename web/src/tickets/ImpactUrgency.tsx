import type { Level } from "../api/types";
import { Field, Select } from "../components/ui";
import { LEVELS, LEVEL_LABELS } from "../lib/format";
import { priorityFor } from "../lib/priority";
import { useTicketSettings } from "./queries";
import { t } from "../i18n";

export type LevelChoice = Level | "";

/** Impact and urgency, and the priority they give through the tenant's matrix (staff:
 * the matrix is in /v1/settings/tickets). `onChange` gets the derived priority too. */
export function ImpactUrgency({
  impact,
  urgency,
  errors,
  onChange,
}: {
  impact: LevelChoice;
  urgency: LevelChoice;
  errors: Record<string, string>;
  onChange: (next: { impact: LevelChoice; urgency: LevelChoice; priority: Level | null }) => void;
}) {
  const settings = useTicketSettings();
  const matrix = settings.data?.priority_matrix;
  const set = (next: { impact: LevelChoice; urgency: LevelChoice }) => onChange({ ...next, priority: priorityFor(matrix, next.impact, next.urgency) });
  const derived = priorityFor(matrix, impact, urgency);
  const select = (label: string, value: LevelChoice, pick: (v: LevelChoice) => void, error: string | undefined, hint: string) => (
    <Field label={label} error={error} description={hint}>
      {(p) => (
        <Select {...p} value={value} onChange={(e) => pick(e.target.value as LevelChoice)}>
          <option value="">{t("tickets.levels.notSet")}</option>
          {LEVELS.map((l) => (
            <option key={l} value={l}>
              {LEVEL_LABELS[l]}
            </option>
          ))}
        </Select>
      )}
    </Field>
  );
  return (
    <div className="space-y-2">
      <div className="space-y-3">
        {select(t("tickets.levels.impact"), impact, (v) => set({ impact: v, urgency }), errors.impact, t("tickets.levels.impactHelp"))}
        {select(t("tickets.levels.urgency"), urgency, (v) => set({ impact, urgency: v }), errors.urgency, t("tickets.levels.urgencyHelp"))}
      </div>
      <p className="text-fg-muted" role="status" data-testid="derived-priority">
        {derived ? t("tickets.levels.derived", { priority: LEVEL_LABELS[derived] }) : t("tickets.levels.setBoth")}
      </p>
    </div>
  );
}
