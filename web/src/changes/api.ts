import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { api, ok } from "../api/client";
import type { components } from "../api/schema";
import { labelled } from "../i18n/changes";

type Schemas = components["schemas"];
export type Change = Schemas["ChangePublic"];
export type ChangeSummary = Schemas["ChangeSummary"];
export type ChangeState = Change["state"];
export type ChangeType = Change["type"];
export type RiskLevel = NonNullable<Change["risk_level"]>;
export type Settings = Schemas["SettingsPublic"];
export type Template = Schemas["TemplatePublic"];
export type Blackout = Schemas["BlackoutPublic"];
export type Outcome = NonNullable<Change["review_outcome"]>;

export const STATE_LABELS: Record<ChangeState, string> = labelled({
  draft: "changes.state.draft",
  assessment: "changes.state.assessment",
  approval: "changes.state.approval",
  scheduled: "changes.state.scheduled",
  implementing: "changes.state.implementing",
  review: "changes.state.review",
  closed: "changes.state.closed",
  cancelled: "changes.state.cancelled",
  failed: "changes.state.failed",
});

export const TYPE_LABELS: Record<ChangeType, string> = labelled({
  standard: "changes.type.standard",
  normal: "changes.type.normal",
  emergency: "changes.type.emergency",
});

export const RISK_LABELS: Record<RiskLevel, string> = labelled({
  low: "changes.risk.low",
  medium: "changes.risk.medium",
  high: "changes.risk.high",
});

export const OUTCOME_LABELS: Record<Outcome, string> = labelled({
  successful: "changes.outcome.successful",
  partially_successful: "changes.outcome.partially_successful",
  failed: "changes.outcome.failed",
});

export const APPROVAL_LABELS: Record<Change["approvals"][number]["state"], string> = labelled({
  pending: "changes.approval.pending",
  approved: "changes.approval.approved",
  rejected: "changes.approval.rejected",
  cancelled: "changes.approval.cancelled",
});

export const RISK_TONE = { low: "success", medium: "warning", high: "danger" } as const;

export interface ChangeFilters {
  q: string;
  state: ChangeState | "";
  type: ChangeType | "";
  risk_level: RiskLevel | "";
}

const NUMBER = /^(?:chg-?)?\d{1,9}$/i;

/** What of a search box's text the list can be asked for (`q`): a change number
 * (CHG-12, chg12, 12) or a word of 3 characters or more; else null (the server answers 422
 * for nothing to search by, and the box asks for more). */
export function searchable(text: string): string | null {
  const q = text.trim().slice(0, 200);
  if (NUMBER.test(q)) return q;
  return /[\p{L}\p{N}_]{3}/u.test(q) ? q : null;
}

export const changeKeys = {
  list: (filters: ChangeFilters) => ["changes", "list", filters] as const,
  change: (id: string) => ["changes", "change", id] as const,
  settings: ["changes", "settings"] as const,
  templates: ["changes", "templates"] as const,
  blackouts: ["changes", "blackouts"] as const,
  calendar: (from: string, to: string) => ["changes", "calendar", from, to] as const,
};

export function useChanges(filters: ChangeFilters) {
  return useInfiniteQuery({
    queryKey: changeKeys.list(filters),
    initialPageParam: null as string | null,
    queryFn: ({ pageParam, signal }) =>
      ok(
        api.GET("/v1/changes", {
          params: {
            query: {
              limit: 50,
              cursor: pageParam,
              state: filters.state || null,
              type: filters.type || null,
              risk_level: filters.risk_level || null,
              q: searchable(filters.q),
            },
          },
          signal,
        }),
      ),
    getNextPageParam: (last) => last.next_cursor ?? null,
  });
}

export function useChange(id: string) {
  return useQuery({
    queryKey: changeKeys.change(id),
    queryFn: ({ signal }) => ok(api.GET("/v1/changes/{change_id}", { params: { path: { change_id: id } }, signal })),
  });
}

export function useSettings() {
  return useQuery({
    queryKey: changeKeys.settings,
    queryFn: ({ signal }) => ok(api.GET("/v1/changes/settings", { signal })),
  });
}

export function useTemplates() {
  return useQuery({
    queryKey: changeKeys.templates,
    queryFn: ({ signal }) => ok(api.GET("/v1/changes/templates", { params: { query: { limit: 100 } }, signal })),
    select: (page) => page.items,
  });
}

export function useBlackouts() {
  return useQuery({
    queryKey: changeKeys.blackouts,
    queryFn: ({ signal }) => ok(api.GET("/v1/changes/blackouts", { params: { query: { limit: 100 } }, signal })),
    select: (page) => page.items,
  });
}

export function useCalendar(from: string, to: string) {
  return useQuery({
    queryKey: changeKeys.calendar(from, to),
    queryFn: ({ signal }) => ok(api.GET("/v1/changes/calendar", { params: { query: { from, to } }, signal })),
  });
}

/** A `datetime-local` input's value as an ISO instant (empty: null), and back. */
export function toInstant(local: string): string | null {
  return local ? new Date(local).toISOString() : null;
}

export function toLocal(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
