import { useEffect, useState } from "react";
import { ClockIcon } from "../components/icons";
import type { SlaTarget } from "../api/types";
import { Badge } from "../components/ui";
import { formatCountdown } from "../lib/format";
import { useSla } from "../tickets/queries";

const NAMES: Record<string, string> = { first_response: "First response", resolution: "Resolution" };

export function useNow(intervalMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = window.setInterval(() => setNow(Date.now()), intervalMs);
    return () => window.clearInterval(id);
  }, [intervalMs]);
  return now;
}

/** One target's state in words and tone: met, breached, paused, or a countdown. */
export function describeTarget(target: SlaTarget, now: number): { tone: "success" | "danger" | "warning" | "info" | "neutral"; text: string } {
  const name = NAMES[target.target] ?? target.target;
  if (target.met_at) return { tone: "success", text: `${name} met` };
  if (target.breached_at) return { tone: "danger", text: `${name} breached` };
  if (target.paused_since) return { tone: "neutral", text: `${name} paused` };
  if (!target.due_at) return { tone: "neutral", text: `${name}: no due time` };
  const left = new Date(target.due_at).getTime() - now;
  if (left < 0) return { tone: "danger", text: `${name} overdue ${formatCountdown(-left)}` };
  const tone = left < target.budget_seconds * 250 ? "warning" : "info"; // under a quarter left
  return { tone, text: `${name} due in ${formatCountdown(left)}` };
}

export function SlaBadges({ ticketId }: { ticketId: string }) {
  const sla = useSla(ticketId);
  const now = useNow(30_000);
  const targets = sla.data?.targets ?? [];
  if (!targets.length) return null;
  return (
    <span className="inline-flex flex-wrap gap-2" aria-label="Service level">
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
