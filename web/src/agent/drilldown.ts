/**
 * A report's drilldown in the address of the ticket list (`/queues/all?team_id=…&from=report`):
 * the ticket list's own query parameters (GET /v1/tickets), read here so a number in a
 * report opens exactly the tickets it counts. List parameters may come repeated or
 * comma-separated; `assignee_id` (the reports' filter name) means `assignee`.
 */
import { formatDateTime, LEVELS, STATUSES } from "../lib/format";
import type { TicketListQuery } from "../tickets/queries";

type Filters = Omit<TicketListQuery, "sort" | "limit" | "cursor">;
type Key = keyof Filters;

/** How a filter is read from the address: one value, a list (repeated or comma-separated,
 * unknown members dropped), a choice among values, or a true/false flag. `own`: the
 * queue's own control, not taken from a report. */
type Spec =
  | { label: string; kind: "single" }
  | { label: string; kind: "list"; valid: (v: string) => boolean }
  | { label: string; kind: "choice"; values: readonly string[] }
  | { label: string; kind: "flag" }
  | { label: string; kind: "own" };

const among = (values: readonly string[]) => (v: string) => values.includes(v);
const single = (label: string): Spec => ({ label, kind: "single" });

/**
 * Every filter of GET /v1/tickets (the server's one model of them, `TicketQuery`): the
 * mapped type makes the compiler refuse this table when the API gains or loses a filter.
 */
const FILTERS: { [K in Key]-?: Spec } = {
  assignee: single("Assignee"),
  team_id: single("Team"),
  requester_id: single("Requester"),
  category_id: single("Category"),
  tag: single("Tag"),
  created_after: single("Created from"),
  created_before: single("Created before"),
  updated_after: single("Updated from"),
  updated_before: single("Updated before"),
  status: { label: "Status", kind: "list", valid: among(STATUSES) },
  priority: { label: "Priority", kind: "list", valid: among(LEVELS) },
  sla: { label: "SLA", kind: "list", valid: among(["breached", "at_risk"]) },
  channel: { label: "Channel", kind: "list", valid: among(["web", "email", "assistant"]) },
  type: { label: "Type", kind: "list", valid: (t) => /^[a-z][a-z0-9_]{0,39}$/.test(t) },
  q: { label: "Search", kind: "own" },
  // The report drill-downs' filters (docs/reports.md, "Drill-down").
  merged: { label: "Merged tickets", kind: "choice", values: ["include", "exclude", "only"] },
  reopened: { label: "Reopened", kind: "flag" },
  one_touch: { label: "One-touch", kind: "flag" },
  first_response_after: single("First response from"),
  first_response_before: single("First response before"),
  resolved_after: single("Resolved (last) from"),
  resolved_before: single("Resolved (last) before"),
  resolution_after: single("A resolution from"),
  resolution_before: single("A resolution before"),
  resolved_by: single("Resolved by"),
  reopen_after: single("A reopen from"),
  reopen_before: single("A reopen before"),
  sla_met_after: single("SLA target met from"),
  sla_met_before: single("SLA target met before"),
  sla_target: { label: "SLA target", kind: "choice", values: ["first_response", "next_response", "resolution"] },
  sla_outcome: { label: "SLA outcome", kind: "choice", values: ["on_time", "late"] },
  sla_policy_id: single("SLA policy"),
  csat_sent_after: single("Survey sent from"),
  csat_sent_before: single("Survey sent before"),
  csat_answered_after: single("Survey answered from"),
  csat_answered_before: single("Survey answered before"),
  open_at: single("Open at"),
};

export interface Drilldown {
  query: Partial<TicketListQuery>;
  /** Parameters the ticket list cannot filter by (shown, not applied). */
  ignored: string[];
}

/** The address's own parameters (not filters): where the list was opened from, its order. */
const ADDRESS = new Set(["from", "sort", "team", "assignee_id"]);

function list(params: URLSearchParams, key: string): string[] {
  return params.getAll(key).flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);
}

/** The drilldown in `params`, or null when the list was not opened from a report. */
export function readDrilldown(params: URLSearchParams): Drilldown | null {
  if (params.get("from") !== "report") return null;
  const query: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(FILTERS) as [Key, Spec][]) {
    if (spec.kind === "list") {
      const raw = list(params, key);
      if (raw.length) query[key] = raw.filter(spec.valid);
      continue;
    }
    const value = params.get(key);
    if (!value) continue;
    if (spec.kind === "single") query[key] = value;
    else if (spec.kind === "choice" && spec.values.includes(value)) query[key] = value;
    else if (spec.kind === "flag" && (value === "true" || value === "false")) query[key] = value === "true";
  }
  // The reports' name for the assignee filter.
  const assigneeId = params.get("assignee_id");
  if (assigneeId && !query.assignee) query.assignee = assigneeId;
  const ignored = [...new Set(params.keys())].filter((key) => !(key in FILTERS) && !ADDRESS.has(key));
  return { query: query as Partial<TicketListQuery>, ignored };
}

/** The queue's query narrowed by the drilldown (the drilldown wins where both filter). */
export function withDrilldown(query: TicketListQuery, drill: Drilldown | null): TicketListQuery {
  if (!drill) return query;
  const merged: TicketListQuery = { ...query, ...drill.query };
  // A drilldown names its statuses or none: the queue's "open" default must not narrow it.
  if (!drill.query.status) delete merged.status;
  return merged;
}

/** "Created from 1 Mar 2026, 00:00 · Team Service desk" for the banner. */
export function describeDrilldown(drill: Drilldown, names: { team?: (id: string) => string | undefined; user?: (id: string) => string | undefined; category?: (id: string) => string | undefined } = {}): string[] {
  const out: string[] = [];
  for (const [key, raw] of Object.entries(drill.query)) {
    const value = Array.isArray(raw) ? raw.join(", ") : String(raw);
    let shown = value;
    if (key.endsWith("_after") || key.endsWith("_before") || key === "open_at") {
      const d = new Date(value);
      shown = Number.isNaN(d.getTime()) ? value : formatDateTime(d);
    } else if (key === "team_id") shown = names.team?.(value) ?? value;
    else if (key === "assignee") shown = value === "none" ? "Unassigned" : (names.user?.(value) ?? value);
    else if (key === "requester_id" || key === "resolved_by") shown = names.user?.(value) ?? value;
    else if (key === "category_id") shown = value === "none" ? "No category" : (names.category?.(value) ?? value);
    out.push(`${FILTERS[key as Key]?.label ?? key}: ${shown}`);
  }
  return out;
}
