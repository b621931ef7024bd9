import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { ClockIcon } from "../components/icons";
import type { SlaTarget } from "../api/types";
import { Badge } from "../components/ui";
import { formatCountdown, slaTargetLabel } from "../lib/format";
import { keys, useSla } from "../tickets/queries";

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
  if (target.met_at) return target.breached_at ? { tone: "danger", text: `${name} met late` } : { tone: "success", text: `${name} met` };
  if (target.breached_at) return { tone: "danger", text: `${name} breached` };
  if (target.paused_since) return { tone: "neutral", text: `${name} paused` };
  if (!target.due_at) return { tone: "neutral", text: `${name}: no due time` };
  const left = new Date(target.due_at).getTime() - now;
  if (left < 0) return { tone: "danger", text: `${name} breached ${formatCountdown(-left)} ago` };
  if (left < target.budget_seconds * 1000 * AT_RISK_SHARE) return { tone: "warning", text: `${name} at risk: due in ${formatCountdown(left)}` };
  return { tone: "info", text: `${name} due in ${formatCountdown(left)}` };
}

/** When the server's view next changes by itself: the earliest due time still ahead (a
 * running target turns breached then). */
export function nextDue(targets: readonly SlaTarget[], now: number): number | null {
  const ahead = targets
    .filter((t) => !t.met_at && !t.breached_at && !t.paused_since && t.due_at)
    .map((t) => new Date(t.due_at as string).getTime())
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
    <span className="inline-flex flex-wrap gap-2" aria-label="Service level" data-testid="sla-badges">
      {targets.map((t) => {
        const { tone, text } = describeTarget(t, now);
        return (
          <Badge key={t.target} tone={tone}>
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
  const text = left < 0 ? `overdue ${formatCountdown(-left)}` : `in ${formatCountdown(left)}`;
  const tone = left < 0 ? "font-semibold text-danger-text" : left < 3_600_000 ? "font-semibold text-warning-text" : "text-fg-muted";
  return (
    <time dateTime={due} className={tone}>
      {text}
    </time>
  );
}
