import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { ClockIcon } from "../components/icons";
import type { SlaTarget } from "../api/types";
import { Badge } from "../components/ui";
import { formatCountdown, slaTargetLabel } from "../lib/format";
import { keys, useSla } from "../tickets/queries";
import { t } from "../i18n";

/** The clock the countdowns read, ticking every `intervalMs`. */
export function useNow(intervalMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = window.setInterval(() => setNow(Date.now()), intervalMs);
    return () => window.clearInterval(id);
  }, [intervalMs]);
  return now;
}

/** Under this share of its budget left, a running target is at risk. */
export const AT_RISK_SHARE = 0.25;

export type SlaTone = "success" | "danger" | "warning" | "info" | "neutral";

/** One target's state in words and tone: met, breached (as soon as its due time passes,
 * before the evaluator records it), paused, at risk, or a countdown. */
export function describeTarget(target: SlaTarget, now: number): { tone: SlaTone; text: string } {
  const name = slaTargetLabel(target.target);
  if (target.met_at) return target.breached_at ? { tone: "danger", text: t("agent.sla.metLate", { name }) } : { tone: "success", text: t("agent.sla.met", { name }) };
  if (target.breached_at) return { tone: "danger", text: t("agent.sla.breached", { name }) };
  if (target.paused_since) return { tone: "neutral", text: t("agent.sla.paused", { name }) };
  if (!target.due_at) return { tone: "neutral", text: t("agent.sla.noDue", { name }) };
  const left = new Date(target.due_at).getTime() - now;
  if (left < 0) return { tone: "danger", text: t("agent.sla.breachedAgo", { name, time: formatCountdown(-left) }) };
  if (left < target.budget_seconds * 1000 * AT_RISK_SHARE) return { tone: "warning", text: t("agent.sla.atRisk", { name, time: formatCountdown(left) }) };
  return { tone: "info", text: t("agent.sla.dueIn", { name, time: formatCountdown(left) }) };
}

/** When the server's view next changes by itself: the earliest due time still ahead (a
 * running target turns breached then). */
export function nextDue(targets: readonly SlaTarget[], now: number): number | null {
  const ahead = targets
    .filter((target) => !target.met_at && !target.breached_at && !target.paused_since && target.due_at)
    .map((target) => new Date(target.due_at as string).getTime())
    .filter((at) => at > now);
  return ahead.length ? Math.min(...ahead) : null;
}

/** A little after the evaluator's minute tick that records the breach. */
const AFTER_DUE_MS = 65_000;
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** The ticket's SLA badges. They tick every 30 s (at risk, then breached, without a
 * reload), refetch on every push about the ticket (LiveProvider), and once more after the
 * next due time, for the server's own record of it. */
export function SlaBadges({ ticketId }: { ticketId: string }) {
  const sla = useSla(ticketId);
  const client = useQueryClient();
  const now = useNow(30_000);
  const targets = sla.data?.targets ?? [];
  const due = nextDue(targets, Date.now());
  useEffect(() => {
    if (due === null) return;
    const id = window.setTimeout(
      () => void client.invalidateQueries({ queryKey: keys.sla(ticketId) }),
      Math.min(MAX_TIMEOUT_MS, Math.max(0, due - Date.now()) + AFTER_DUE_MS),
    );
    return () => window.clearTimeout(id);
  }, [client, ticketId, due]);
  if (!targets.length) return null;
  return (
    <span className="inline-flex flex-wrap gap-2" aria-label={t("agent.sla.label")} data-testid="sla-badges">
      {targets.map((target) => {
        const { tone, text } = describeTarget(target, now);
        return (
          <Badge key={target.target} tone={tone}>
            <ClockIcon /> {text}
          </Badge>
        );
      })}
    </span>
  );
}

/** A queue cell: when the ticket's earliest open SLA target falls due (sla_due_at), as a
 * countdown that turns to a warning in the last hour and to danger once overdue. */
export function SlaDue({ due, now }: { due: string | null; now: number }) {
  if (!due) return <span className="text-fg-muted">—</span>;
  const left = new Date(due).getTime() - now;
  const text = left < 0 ? t("agent.sla.overdue", { time: formatCountdown(-left) }) : t("agent.sla.in", { time: formatCountdown(left) });
  const tone = left < 0 ? "font-semibold text-danger-text" : left < 3_600_000 ? "font-semibold text-warning-text" : "text-fg-muted";
  return (
    <time dateTime={due} className={tone}>
      {text}
    </time>
  );
}
