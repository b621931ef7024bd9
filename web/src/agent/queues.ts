import type { Level, TicketStatus } from "../api/types";
import { ACTIVE_STATUSES } from "../lib/domain";
import type { TicketListQuery } from "../tickets/queries";

export type QueueId = "mine" | "unassigned" | "team" | "sla" | "all";

export const QUEUES: { id: QueueId; label: string }[] = [
  { id: "mine", label: "My open" },
  { id: "unassigned", label: "Unassigned" },
  { id: "team", label: "My team" },
  { id: "sla", label: "At risk / breached" },
  { id: "all", label: "All" },
];

export const SORTS = [
  { value: "-updated_at", label: "Recently updated" },
  { value: "-created_at", label: "Newest first" },
  { value: "created_at", label: "Oldest first" },
  { value: "-priority", label: "Highest priority" },
  { value: "sla_due", label: "SLA due soonest" },
] as const;

export type Sort = (typeof SORTS)[number]["value"];

export interface QueueFilters {
  status: "active" | "any" | TicketStatus;
  priority: "" | Level;
  /** A ticket type's key, or "" for any. */
  type?: string;
  q: string;
  sort: Sort;
  team: string;
  sla: SlaFilter;
}

/** The SLA queue shows breached and at-risk tickets together unless narrowed. */
export type SlaFilter = "any" | "breached" | "at_risk";

export const SLA_FILTERS: { value: SlaFilter; label: string }[] = [
  { value: "any", label: "Breached or at risk" },
  { value: "breached", label: "Breached" },
  { value: "at_risk", label: "At risk" },
];

export function slaFilter(param: string | null): SlaFilter {
  return param === "breached" || param === "at_risk" ? param : "any";
}

export function isQueue(value: string | undefined): value is QueueId {
  return QUEUES.some((q) => q.id === value);
}

/** The SLA queue sorts by due time: the most overdue (breached) first. */
export function defaultSort(queue: QueueId): Sort {
  return queue === "sla" ? "sla_due" : "-updated_at";
}

/** The API query of a queue and its filters (the queue fixes what it is about; the
 * filters narrow it). */
export function queueQuery(queue: QueueId, f: QueueFilters): TicketListQuery {
  const query: TicketListQuery = { limit: 100, sort: f.sort };
  if (f.status === "active") query.status = [...ACTIVE_STATUSES];
  else if (f.status !== "any") query.status = [f.status];
  if (f.priority) query.priority = [f.priority];
  if (f.type) query.type = [f.type];
  if (f.q.trim()) query.q = f.q.trim();
  if (queue === "mine") query.assignee = "me";
  if (queue === "unassigned") query.assignee = "none";
  if (queue === "team" && f.team) query.team_id = f.team;
  if (queue === "sla") query.sla = f.sla === "any" ? ["breached", "at_risk"] : [f.sla];
  return query;
}

/** The server allows 50 channels a connection (its own user channel and open tickets
 * included): queues hear at most this many teams. */
export const MAX_TEAM_CHANNELS = 40;

/** While the socket is open, queues refetch this rarely: a ticket without a team is
 * announced on no team channel, so only this (or another push) brings it in. */
export const SAFETY_POLL_MS = 120_000;

/** The team channels a queue listens to: the person's own teams always; the chosen team
 * on "My team"; every team on the queues that span teams (Unassigned, At risk, All).
 * "My open" needs none: assignments to the person reach their own channel. */
export function teamsToHear(
  queue: QueueId,
  chosenTeam: string,
  myTeams: readonly { id: string }[],
  allTeams: readonly { id: string; active?: boolean }[],
): string[] {
  if (queue === "mine") return [];
  const ids = myTeams.map((t) => t.id);
  if (queue === "team" && chosenTeam) ids.unshift(chosenTeam);
  if (queue === "unassigned" || queue === "all" || queue === "sla") {
    ids.push(...allTeams.filter((t) => t.active !== false).map((t) => t.id));
  }
  return [...new Set(ids)].slice(0, MAX_TEAM_CHANNELS);
}
