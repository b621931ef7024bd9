import type { Level } from "../api/types";
import { ACTIVE_STATUSES } from "../lib/domain";
import { SLA_TARGET_LABELS } from "../lib/format";
import { splitList, toInt } from "./fields";
import { type Errors } from "./forms";
import type { Escalation, PauseStatus, Policy, PolicyBody } from "./types";
import { labelled, t } from "../i18n/admin";

/* An SLA policy as its editor holds it (text for numbers and lists, as typed), with the
 * checks made before sending and the body the API takes. */

export type Target = NonNullable<Escalation["target"]>;
export type Action = Escalation["action"];

export const TARGET_LABELS: Record<Target, string> = SLA_TARGET_LABELS;
export const ACTION_LABELS: Record<Action, string> = labelled({
  notify_assignee: "admin.policyForm.notifyTheAssignee",
  notify_team: "admin.policyForm.notifyTheTeam",
  notify_managers: "admin.policyForm.notifyTheManagers",
  reassign_team: "admin.policyForm.moveToAnotherTeam",
  raise_priority: "admin.policyForm.raiseThePriority",
});
/** The clock may pause in any active status (the API takes no other). */
export const PAUSE_STATUSES = ACTIVE_STATUSES as readonly PauseStatus[];

export interface EscalationForm {
  key: string;
  on: "warning" | "breach";
  threshold: string;
  target: Target | "";
  action: Action;
  team_id: string;
}

export interface PolicyForm {
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
export function escalationKey(): string {
  escalationCounter += 1;
  return `e${escalationCounter}`;
}

export function toForm(policy: Policy | null, nextPosition = 0): PolicyForm {
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

export const MINUTE_FIELDS = [
  // [field, SLA target (its name: lib/format.ts SLA_TARGET_LABELS), maximum]
  ["first_response_minutes", "first_response", 525600],
  ["next_response_minutes", "next_response", 525600],
  ["resolution_minutes", "resolution", 5256000],
] as const;

export function validate(form: PolicyForm): Errors {
  const errors: Errors = {};
  if (!form.name.trim()) errors.name = t("fields.required");
  const position = toInt(form.position);
  if (position === null || !Number.isInteger(position) || position < 0 || position > 10000) errors.position = t("admin.policyForm.aWholeNumberFrom");
  let targets = 0;
  for (const [key, , max] of MINUTE_FIELDS) {
    const text = form[key].trim();
    if (!text) continue;
    const n = toInt(text);
    if (n === null || !Number.isInteger(n) || n <= 0 || n > max) errors[key] = t("admin.policyForm.aWholeNumberOf", { max });
    else targets += 1;
  }
  if (!targets && !Object.keys(errors).some((k) => k.endsWith("_minutes"))) errors.body = t("admin.policyForm.aPolicyNeedsAt");
  const thresholds = splitList(form.warning_thresholds);
  if (thresholds.length > 5 || thresholds.some((t) => !/^\d+$/.test(t) || Number(t) < 1 || Number(t) > 99))
    errors.warning_thresholds = t("admin.policyForm.upToFivePercentages");
  form.escalations.forEach((e, i) => {
    if (e.threshold.trim() && !/^\d+$/.test(e.threshold.trim())) errors[`escalations.${i}.threshold`] = t("admin.policyForm.aPercentageBetween1");
    if (e.action === "reassign_team" && !e.team_id) errors[`escalations.${i}.team_id`] = t("admin.policyForm.reassignTeamNeedsTeam");
  });
  return errors;
}

export function body(form: PolicyForm): PolicyBody {
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
