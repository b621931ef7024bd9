import { useQuery } from "@tanstack/react-query";
import { api, ok } from "../api/client";
import type { components } from "../api/schema";

type Schemas = components["schemas"];
export type Macro = Schemas["MacroPublic"];
export type MacroAction = Macro["actions"][number];
export type MacroActionType = MacroAction["type"];
export type MacroScope = Macro["scope"];
export type MacroPreview = Schemas["MacroPreview"];
export type MacroApplied = Schemas["MacroApplied"];
export type Placeholder = Schemas["PlaceholderPublic"];

/** What a macro may do (servicedesk/actions/schemas.py MACRO_TYPES), in the builder's order. */
export const MACRO_TYPES = ["reply", "note", "set_status", "assign", "set_field", "add_tags", "remove_tags"] as const;
export type MacroType = (typeof MACRO_TYPES)[number];

export const TYPE_LABELS: Record<MacroType, string> = {
  reply: "Reply to the requester",
  note: "Internal note",
  set_status: "Change status",
  assign: "Assign",
  set_field: "Set a field",
  add_tags: "Add tags",
  remove_tags: "Remove tags",
};

export const SCOPE_LABELS: Record<MacroScope, string> = {
  personal: "Personal",
  team: "Team",
  tenant: "Shared",
};

export const macroKeys = {
  all: ["macros"] as const,
  list: (filters: { q: string; scope: MacroScope | ""; archived?: boolean }) => ["macros", "list", filters] as const,
  macro: (id: string) => ["macros", id] as const,
  placeholders: ["macros", "placeholders"] as const,
};

export function useMacros(q: string, scope: MacroScope | "" = "", archived = false, enabled = true) {
  return useQuery({
    queryKey: macroKeys.list({ q, scope, archived }),
    enabled,
    queryFn: ({ signal }) =>
      ok(
        api.GET("/v1/macros", {
          params: { query: { limit: 100, q: q || null, scope: scope || null, include_archived: archived || null } },
          signal,
        }),
      ),
    select: (page) => page.items,
  });
}

export function useMacro(id: string) {
  return useQuery({
    queryKey: macroKeys.macro(id),
    queryFn: ({ signal }) => ok(api.GET("/v1/macros/{macro_id}", { params: { path: { macro_id: id } }, signal })),
  });
}

export function usePlaceholders() {
  return useQuery({
    queryKey: macroKeys.placeholders,
    staleTime: Infinity,
    queryFn: ({ signal }) => ok(api.GET("/v1/macros/placeholders", { signal })),
  });
}

/** A one-line summary of an action, for lists and results. */
export function describeAction(action: MacroAction): string {
  switch (action.type) {
    case "reply":
      return "Reply to the requester";
    case "note":
      return "Internal note";
    case "set_status":
      return `Status → ${action.status.replaceAll("_", " ")}`;
    case "assign":
      return action.assignee_rule === "current_user" ? "Assign to me" : "Assign";
    case "set_field":
      return `Set ${action.field.replace("custom_fields.", "")}`;
    case "add_tags":
      return `Add tags: ${action.tags.join(", ")}`;
    case "remove_tags":
      return `Remove tags: ${action.tags.join(", ")}`;
    default:
      return action.type;
  }
}
