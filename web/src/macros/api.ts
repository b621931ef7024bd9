import { useQuery } from "@tanstack/react-query";
import { api, ok } from "../api/client";
import type { components } from "../api/schema";
import { labelled, t } from "../i18n/macros";

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

export const TYPE_LABELS: Record<MacroType, string> = labelled({
  reply: "macros.api.replyToTheRequester",
  note: "macros.api.internalNote",
  set_status: "macros.api.changeStatus",
  assign: "macros.api.assign",
  set_field: "macros.api.setAField",
  add_tags: "macros.api.addTags",
  remove_tags: "macros.api.removeTags",
});

export const SCOPE_LABELS: Record<MacroScope, string> = labelled({ personal: "macros.api.personal", team: "macros.api.team", tenant: "macros.api.shared" });

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
      return t("macros.api.replyToTheRequester");
    case "note":
      return t("macros.api.internalNote");
    case "set_status":
      return t("macros.api.statusValue", { value: action.status.replaceAll("_", " ") });
    case "assign":
      return action.assignee_rule === "current_user" ? t("macros.api.assignToMe") : t("macros.api.assign");
    case "set_field":
      return t("macros.api.setValue", { value: action.field.replace("custom_fields.", "") });
    case "add_tags":
      return t("macros.api.addTagsValue", { value: action.tags.join(", ") });
    case "remove_tags":
      return t("macros.api.removeTagsValue", { value: action.tags.join(", ") });
    default:
      return action.type;
  }
}
