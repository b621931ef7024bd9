import type { TicketStatus } from "../api/types";
import { isActive, isFinished } from "./domain";

/** The ticket state machine of servicedesk/tickets/states.py (the server has the last word:
 * a refused move answers 409 with the allowed ones). */
const GRAPH: Record<TicketStatus, readonly TicketStatus[]> = {
  new: ["open", "in_progress", "pending", "resolved", "closed", "cancelled"],
  open: ["in_progress", "pending", "resolved", "closed", "cancelled"],
  in_progress: ["open", "pending", "resolved", "closed", "cancelled"],
  pending: ["open", "in_progress", "resolved", "closed", "cancelled"],
  // Only its approval moves it (to open, or closed); people may cancel it.
  pending_approval: ["cancelled"],
  resolved: ["open", "closed"],
  closed: ["open"],
  cancelled: ["open"],
};

/** Where the caller may move the ticket: staff anywhere the graph allows; the requester
 * may cancel or close their own, and reopen a finished one (within the tenant's window,
 * which only the server knows); a cancelled request too. */
export function allowedTransitions(
  current: TicketStatus,
  { staff, isRequester }: { staff: boolean; isRequester: boolean },
): TicketStatus[] {
  const targets = GRAPH[current];
  if (staff) return [...targets];
  if (!isRequester) return [];
  const own = new Set<TicketStatus>();
  if (isActive(current) || current === "pending_approval") own.add("cancelled");
  if (isActive(current) || current === "resolved") own.add("closed");
  if (isFinished(current)) own.add("open");
  return targets.filter((t) => own.has(t));
}
