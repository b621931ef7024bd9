import type { Level } from "../api/types";

export type PriorityMatrix = Partial<Record<string, Partial<Record<string, Level>>>>;

/** The ITIL matrix servicedesk/tickets/settings.py starts every tenant with (impact row,
 * urgency column); the tenant's own comes from /v1/settings/tickets. */
export const DEFAULT_MATRIX: Record<Level, Record<Level, Level>> = {
  critical: { critical: "critical", high: "critical", medium: "high", low: "high" },
  high: { critical: "critical", high: "high", medium: "high", low: "medium" },
  medium: { critical: "high", high: "high", medium: "medium", low: "low" },
  low: { critical: "medium", high: "medium", medium: "low", low: "low" },
};

/** The priority impact and urgency give, as the server derives it (TicketSettings.
 * priority_for): the matrix when both are set, else null (the priority stays as chosen). */
export function priorityFor(matrix: PriorityMatrix | undefined, impact: Level | "" | null, urgency: Level | "" | null): Level | null {
  if (!impact || !urgency) return null;
  return (matrix ?? DEFAULT_MATRIX)[impact]?.[urgency] ?? "medium";
}
