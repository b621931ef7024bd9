/**
 * A report's drilldown in the address of the ticket list (`/queues/all?team_id=…&from=report`):
 * the ticket list's own query parameters (GET /v1/tickets), read here so a number in a
 * report opens exactly the tickets it counts. List parameters may come repeated or
 * comma-separated; `assignee_id` (the reports' filter name) means `assignee`.
 */
import { formatDateTime, LEVELS, STATUSES } from "../lib/format";
import type { TicketListQuery } from "../tickets/queries";
import { t, type MessageKey } from "../i18n";

type Filters = Omit<TicketListQuery, "sort" | "limit" | "cursor">;
type Key = keyof Filters;

/** How a filter is read from the address: one value, a list (repeated or comma-separated,
 * unknown members dropped), a choice among values, or a true/false flag. `own`: the
 * queue's own control, not taken from a report. */
type Spec =
  | { label: MessageKey; kind: "single" }
  | { label: MessageKey; kind: "list"; valid: (v: string) => boolean }
  | { label: MessageKey; kind: "choice"; values: readonly string[] }
  | { label: MessageKey; kind: "flag" }
  | { label: MessageKey; kind: "own" };

const among = (values: readonly string[]) => (v: string) => values.includes(v);
const single = (label: MessageKey): Spec => ({ label, kind: "single" });

/**
 * Every filter of GET /v1/tickets (the server's one model of them, `TicketQuery`): the
 * mapped type makes the compiler refuse this table when the API gains or loses a filter.
 */
const FILTERS: { [K in Key]-?: Spec } = {
  assignee: single("agent.drilldown.assignee"),
  team_id: single("agent.drilldown.team_id"),
  requester_id: single("agent.drilldown.requester_id"),
  category_id: single("agent.drilldown.category_id"),
  tag: single("agent.drilldown.tag"),
  created_after: single("agent.drilldown.created_after"),
  created_before: single("agent.drilldown.created_before"),
  updated_after: single("agent.drilldown.updated_after"),
  updated_before: single("agent.drilldown.updated_before"),
  status: { label: "agent.drilldown.status", kind: "list", valid: among(STATUSES) },
  priority: { label: "agent.drilldown.priority", kind: "list", valid: among(LEVELS) },
  sla: { label: "agent.drilldown.sla", kind: "list", valid: among(["breached", "at_risk"]) },
  channel: { label: "agent.drilldown.channel", kind: "list", valid: among(["web", "email", "assistant", "slack"]) },
  type: { label: "agent.drilldown.type", kind: "list", valid: (v) => /^[a-z][a-z0-9_]{0,39}$/.test(v) },
  q: { label: "agent.drilldown.q", kind: "own" },
  // The report drill-downs' filters (docs/reports.md, "Drill-down").
  merged: { label: "agent.drilldown.merged", kind: "choice", values: ["include", "exclude", "only"] },
  reopened: { label: "agent.drilldown.reopened", kind: "flag" },
  one_touch: { label: "agent.drilldown.one_touch", kind: "flag" },
  first_response_after: single("agent.drilldown.first_response_after"),
  first_response_before: single("agent.drilldown.first_response_before"),
  resolved_after: single("agent.drilldown.resolved_after"),
  resolved_before: single("agent.drilldown.resolved_before"),
  resolution_after: single("agent.drilldown.resolution_after"),
  resolution_before: single("agent.drilldown.resolution_before"),
  resolved_by: single("agent.drilldown.resolved_by"),
  reopen_after: single("agent.drilldown.reopen_after"),
  reopen_before: single("agent.drilldown.reopen_before"),
  sla_met_after: single("agent.drilldown.sla_met_after"),
  sla_met_before: single("agent.drilldown.sla_met_before"),
  sla_target: { label: "agent.drilldown.sla_target", kind: "choice", values: ["first_response", "next_response", "resolution"] },
  sla_outcome: { label: "agent.drilldown.sla_outcome", kind: "choice", values: ["on_time", "late"] },
  sla_policy_id: single("agent.drilldown.sla_policy_id"),
  csat_sent_after: single("agent.drilldown.csat_sent_after"),
  csat_sent_before: single("agent.drilldown.csat_sent_before"),
  csat_answered_after: single("agent.drilldown.csat_answered_after"),
  csat_answered_before: single("agent.drilldown.csat_answered_before"),
  open_at: single("agent.drilldown.open_at"),
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
    else if (key === "assignee") shown = value === "none" ? t("agent.drilldown.unassigned") : (names.user?.(value) ?? value);
    else if (key === "requester_id" || key === "resolved_by") shown = names.user?.(value) ?? value;
    else if (key === "category_id") shown = value === "none" ? t("agent.drilldown.noCategory") : (names.category?.(value) ?? value);
    const spec = FILTERS[key as Key] as Spec | undefined;
    out.push(t("agent.drilldown.item", { filter: spec ? t(spec.label) : key, value: shown }));
  }
  return out;
}
