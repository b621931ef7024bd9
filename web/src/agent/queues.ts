import type { Level, TicketStatus } from "../api/types";
import { ACTIVE_STATUSES } from "../lib/domain";
import type { TicketListQuery } from "../tickets/queries";
import type { MessageKey } from "../i18n";

export type QueueId = "mine" | "unassigned" | "team" | "sla" | "all";

/** The queues, each with its name's catalogue key (`t(label)` shows it). */
export const QUEUES: { id: QueueId; label: MessageKey }[] = [
  { id: "mine", label: "agent.queue.mine" },
  { id: "unassigned", label: "agent.queue.unassigned" },
  { id: "team", label: "agent.queue.team" },
  { id: "sla", label: "agent.queue.sla" },
  { id: "all", label: "agent.queue.all" },
];

export const SORTS = [
  { value: "-updated_at", label: "agent.sort.updated" },
  { value: "-created_at", label: "agent.sort.newest" },
  { value: "created_at", label: "agent.sort.oldest" },
  { value: "-priority", label: "agent.sort.priority" },
  { value: "sla_due", label: "agent.sort.slaDue" },
] as const satisfies readonly { value: string; label: MessageKey }[];

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

export const SLA_FILTERS: { value: SlaFilter; label: MessageKey }[] = [
  { value: "any", label: "agent.slaFilter.any" },
  { value: "breached", label: "agent.slaFilter.breached" },
  { value: "at_risk", label: "agent.slaFilter.atRisk" },
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
