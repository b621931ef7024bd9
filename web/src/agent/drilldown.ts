/**
 * A report's drilldown in the address of the ticket list (`/queues/all?team_id=…&from=report`):
 * the ticket list's own query parameters (GET /v1/tickets), read here so a number in a
 * report opens exactly the tickets it counts. List parameters may come repeated or
 * comma-separated; `assignee_id` (the reports' filter name) means `assignee`.
 */
import type { Level, TicketStatus } from "../api/types";
import { formatDateTime, LEVELS, STATUSES } from "../lib/format";
import type { TicketListQuery } from "../tickets/queries";

const SINGLE = [
  "assignee",
  "team_id",
  "requester_id",
  "category_id",
  "tag",
  "created_after",
  "created_before",
  "updated_after",
  "updated_before",
  // The report drill-downs' filters (docs/reports.md, "Drill-down").
  "first_response_after",
  "first_response_before",
  "resolved_after",
  "resolved_before",
  "resolution_after",
  "resolution_before",
  "resolved_by",
  "reopen_after",
  "reopen_before",
  "sla_met_after",
  "sla_met_before",
  "sla_policy_id",
  "csat_sent_after",
  "csat_sent_before",
  "csat_answered_after",
  "csat_answered_before",
  "open_at",
] as const;
const CHANNELS = ["web", "email", "assistant"] as const;
const CHOICES = {
  merged: ["include", "exclude", "only"],
  sla_target: ["first_response", "next_response", "resolution"],
  sla_outcome: ["on_time", "late"],
} as const;
const FLAGS = ["reopened", "one_touch"] as const;
type Single = (typeof SINGLE)[number];

export interface Drilldown {
  query: Partial<TicketListQuery>;
  /** Parameters the ticket list cannot filter by (shown, not applied). */
  ignored: string[];
}

const OWN = new Set(["from", "status", "priority", "q", "sort", "team", "sla"]);
const KNOWN = new Set<string>([...SINGLE, ...Object.keys(CHOICES), ...FLAGS, "assignee_id", "status", "priority", "sla", "channel", "type"]);

function list(params: URLSearchParams, key: string): string[] {
  return params.getAll(key).flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);
}

/** The drilldown in `params`, or null when the list was not opened from a report. */
export function readDrilldown(params: URLSearchParams): Drilldown | null {
  if (params.get("from") !== "report") return null;
  const query: Partial<TicketListQuery> = {};
  const ignored: string[] = [];
  for (const key of SINGLE) {
    const value = params.get(key);
    if (value) (query as Record<Single, string>)[key] = value;
  }
  const assigneeId = params.get("assignee_id");
  if (assigneeId && !query.assignee) query.assignee = assigneeId;
  const statuses = list(params, "status");
  if (statuses.length) query.status = statuses.filter((s): s is TicketStatus => (STATUSES as string[]).includes(s));
  const priorities = list(params, "priority");
  if (priorities.length) query.priority = priorities.filter((p): p is Level => (LEVELS as readonly string[]).includes(p));
  const sla = list(params, "sla").filter((s): s is "breached" | "at_risk" => s === "breached" || s === "at_risk");
  if (sla.length) query.sla = sla;
  const channels = list(params, "channel").filter((c): c is (typeof CHANNELS)[number] => (CHANNELS as readonly string[]).includes(c));
  if (channels.length) query.channel = channels;
  const types = list(params, "type").filter((t) => /^[a-z][a-z0-9_]{0,39}$/.test(t));
  if (types.length) query.type = types;
  for (const [key, allowed] of Object.entries(CHOICES)) {
    const value = params.get(key);
    if (value && (allowed as readonly string[]).includes(value)) (query as Record<string, string>)[key] = value;
  }
  for (const key of FLAGS) {
    const value = params.get(key);
    if (value === "true" || value === "false") query[key] = value === "true";
  }
  for (const key of new Set(params.keys())) {
    if (!KNOWN.has(key) && !OWN.has(key)) ignored.push(key);
  }
  return { query, ignored };
}

/** The queue's query narrowed by the drilldown (the drilldown wins where both filter). */
export function withDrilldown(query: TicketListQuery, drill: Drilldown | null): TicketListQuery {
  if (!drill) return query;
  const merged: TicketListQuery = { ...query, ...drill.query };
  // A drilldown names its statuses or none: the queue's "open" default must not narrow it.
  if (!drill.query.status) delete merged.status;
  return merged;
}

const LABELS: Record<string, string> = {
  assignee: "Assignee",
  team_id: "Team",
  requester_id: "Requester",
  category_id: "Category",
  tag: "Tag",
  created_after: "Created from",
  created_before: "Created before",
  updated_after: "Updated from",
  updated_before: "Updated before",
  status: "Status",
  priority: "Priority",
  sla: "SLA",
  channel: "Channel",
  type: "Type",
  merged: "Merged tickets",
  reopened: "Reopened",
  one_touch: "One-touch",
  first_response_after: "First response from",
  first_response_before: "First response before",
  resolved_after: "Resolved (last) from",
  resolved_before: "Resolved (last) before",
  resolution_after: "A resolution from",
  resolution_before: "A resolution before",
  resolved_by: "Resolved by",
  reopen_after: "A reopen from",
  reopen_before: "A reopen before",
  sla_met_after: "SLA target met from",
  sla_met_before: "SLA target met before",
  sla_target: "SLA target",
  sla_outcome: "SLA outcome",
  sla_policy_id: "SLA policy",
  csat_sent_after: "Survey sent from",
  csat_sent_before: "Survey sent before",
  csat_answered_after: "Survey answered from",
  csat_answered_before: "Survey answered before",
  open_at: "Open at",
};

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
    out.push(`${LABELS[key] ?? key}: ${shown}`);
  }
  return out;
}
