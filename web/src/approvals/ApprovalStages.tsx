import { Badge } from "../components/ui";
import { t, type MessageKey } from "../i18n";
import { formatRelative } from "../lib/format";
import { STAGE_TONE, type Stage } from "./types";

/** The stages of an approval in order: their rule, state, due time and every decision with
 * its comment (the approvals page and the ticket page). Approvers are named by the
 * `names` map when the caller knows them, else counted. */
export function ApprovalStages({ stages, names = {} }: { stages: Stage[]; names?: Record<string, string> }) {
  const who = (id: string) => names[id] ?? t("approvals.someone");
  return (
    <ol className="space-y-3" aria-label={t("approvals.stages")}>
      {stages.map((stage) => (
        <li key={stage.id} className="rounded-md border border-border px-3 py-2">
          <div className="flex flex-wrap items-center gap-2">
            <span className="font-medium text-fg">
              {stage.position + 1}. {stage.name}
            </span>
            <Badge tone={STAGE_TONE[stage.state]}>{t(`approvals.stage.${stage.state}` as MessageKey)}</Badge>
            <span className="text-fg-muted">
              {stage.rule === "quorum"
                ? t("approvals.rule.quorum", { n: stage.quorum ?? 1 })
                : t(`approvals.rule.${stage.rule}` as MessageKey)}
              {" · "}
              {t("approvals.approverCount", { n: stage.approver_ids.length })}
            </span>
            {stage.due_at && stage.state === "pending" ? (
              <span className="text-fg-muted">{t("approvals.due", { when: formatRelative(stage.due_at) })}</span>
            ) : null}
            {stage.escalated_at ? <Badge tone="warning">{t("approvals.escalated")}</Badge> : null}
          </div>
          {stage.decisions.length ? (
            <ul className="mt-2 space-y-1">
              {stage.decisions.map((d) => (
                <li key={d.id} className="text-fg">
                  <Badge tone={d.decision === "approve" ? "success" : "danger"}>
                    {t(d.decision === "approve" ? "approvals.approved" : "approvals.rejected")}
                  </Badge>{" "}
                  {who(d.approver_id)}
                  {d.on_behalf_of ? ` ${t("approvals.onBehalfOf", { name: who(d.on_behalf_of) })}` : ""}
                  {" · "}
                  <span className="text-fg-muted">{formatRelative(d.created_at)}</span>
                  {d.comment ? <q className="ml-2 text-fg-muted">{d.comment}</q> : null}
                </li>
              ))}
            </ul>
          ) : null}
        </li>
      ))}
    </ol>
  );
}
