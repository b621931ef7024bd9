/* The automation rule editor's model: the whole grammar the API accepts
 * (docs/automation.md, servicedesk/automation/conditions.py, servicedesk/actions/schemas.py)
 * as form state, to and from the API's JSON, and the API's field errors mapped back to the
 * input that caused them. Pure functions: ruleForm.test.ts. */

export const STATUSES = ["new", "open", "in_progress", "pending", "pending_approval", "resolved", "closed", "cancelled"] as const;
export const LEVELS = ["low", "medium", "high", "critical"] as const;
export const CHANNELS = ["web", "email", "assistant", "slack"] as const;
export const TRIGGER_EVENTS = ["created", "updated", "commented", "status_changed", "assigned", "sla_warning", "sla_breached"] as const;
export const ACTION_TYPES = [
  "set_field",
  "add_tags",
  "remove_tags",
  "set_status",
  "assign",
  "reply",
  "note",
  "notify",
  "webhook",
  "apply_macro",
] as const;
export const ASSIGNEE_RULES = ["team_rule", "round_robin", "least_open"] as const;
export const RECIPIENTS = ["requester", "assignee", "team", "participants"] as const;
/** Ticket fields an action may set (besides custom_fields.<key>). */
export const SETTABLE = ["title", "priority", "impact", "urgency", "category_id", "type"] as const;
/** Fields an `updated` trigger may narrow to (besides custom_fields.<key>). */
export const TRIGGER_FIELDS = ["title", "description", "status", "priority", "impact", "urgency", "category_id", "assignee_id", "team_id", "tags", "type"] as const;
export const MAX_DEPTH = 4;
export const CUSTOM = "custom";

export type Kind = "scalar" | "text" | "ref" | "tags" | "custom" | "hours" | "flag";
/** Where a value's choices come from: a fixed list, or one of the tenant's lists. */
export type Source = "statuses" | "levels" | "channels" | "types" | "users" | "teams" | "categories" | null;

export const FIELDS: Record<string, { kind: Kind; source: Source }> = {
  status: { kind: "scalar", source: "statuses" },
  priority: { kind: "scalar", source: "levels" },
  impact: { kind: "scalar", source: "levels" },
  urgency: { kind: "scalar", source: "levels" },
  channel: { kind: "scalar", source: "channels" },
  type: { kind: "scalar", source: "types" },
  title: { kind: "text", source: null },
  description: { kind: "text", source: null },
  requester_id: { kind: "ref", source: "users" },
  assignee_id: { kind: "ref", source: "users" },
  team_id: { kind: "ref", source: "teams" },
  category_id: { kind: "ref", source: "categories" },
  tags: { kind: "tags", source: null },
  hours_since_created: { kind: "hours", source: null },
  hours_since_updated: { kind: "hours", source: null },
  hours_since_status_change: { kind: "hours", source: null },
  business_hours_now: { kind: "flag", source: null },
  [CUSTOM]: { kind: "custom", source: null },
};

const CHANGE = ["changed", "changed_from", "changed_to"];
export const KIND_OPS: Record<Kind, string[]> = {
  scalar: ["is", "is_not", "in", "not_in", ...CHANGE],
  ref: ["is", "is_not", "in", "not_in", ...CHANGE],
  text: ["is", "is_not", "contains", "not_contains", "matches", "changed"],
  tags: ["includes", "excludes", "changed"],
  custom: ["is", "is_not", "in", "not_in", "contains", "not_contains", "matches", "gt", "gte", "lt", "lte", ...CHANGE],
  hours: ["gt", "gte", "lt", "lte"],
  flag: ["is"],
};
const LIST_OPS = ["in", "not_in", "includes", "excludes"];
const NUMBER_OPS = ["gt", "gte", "lt", "lte"];
/** Ops whose value may be null ("none"). */
const NULLABLE_OPS = ["is", "is_not", ...CHANGE];

/** A custom field's value as JSON: its type is part of it (`true` is not `1`). */
export type ValueType = "text" | "number" | "boolean" | "null";

export interface TestForm {
  node: "test";
  field: string; // a FIELDS key; CUSTOM for custom_fields.<customKey>
  customKey: string;
  op: string;
  value: string; // a single value; "" with a source means none (null)
  values: string[]; // list ops
  valueType: ValueType;
  business: boolean;
}
export interface GroupForm {
  node: "group";
  mode: "all" | "any";
  items: NodeForm[];
}
export type NodeForm = TestForm | GroupForm;

export interface TriggerForm {
  event: string;
  fields: string; // updated: comma-separated field names
  visibility: "" | "public" | "internal";
  by: "" | "requester" | "agent";
}

export interface ActionForm {
  type: (typeof ACTION_TYPES)[number];
  field: string; // set_field: a SETTABLE name or CUSTOM
  customKey: string;
  value: string;
  valueType: ValueType;
  tags: string;
  status: string;
  teamMode: "keep" | "none" | "set";
  teamId: string;
  assigneeMode: "keep" | "none" | "person" | "rule";
  assigneeId: string;
  assigneeRule: string;
  body: string;
  subject: string;
  to: string[]; // RECIPIENTS
  people: string[]; // user ids
  webhookId: string;
  macroId: string;
}

export interface RuleForm {
  name: string;
  description: string;
  kind: "event" | "time";
  active: boolean;
  loopLimit: string;
  triggers: TriggerForm[];
  conditions: GroupForm;
  actions: ActionForm[];
}

export function newTest(field = "title"): TestForm {
  return { node: "test", field, customKey: "", op: opsFor(field, "event")[0] ?? "is", value: "", values: [], valueType: "text", business: false };
}

export function newGroup(mode: "all" | "any" = "all"): GroupForm {
  return { node: "group", mode, items: [] };
}

export function newTrigger(event = "created"): TriggerForm {
  return { event, fields: "", visibility: "", by: "" };
}

export function newAction(type: ActionForm["type"] = "add_tags"): ActionForm {
  return {
    type,
    field: "priority",
    customKey: "",
    value: "",
    valueType: "text",
    tags: "",
    status: "open",
    teamMode: "keep",
    teamId: "",
    assigneeMode: "rule",
    assigneeId: "",
    assigneeRule: "round_robin",
    body: "",
    subject: "",
    to: [],
    people: [],
    webhookId: "",
    macroId: "",
  };
}

export function emptyRule(): RuleForm {
  return {
    name: "",
    description: "",
    kind: "event",
    active: true,
    loopLimit: "1",
    triggers: [newTrigger()],
    conditions: newGroup(),
    actions: [newAction()],
  };
}

export function kindOf(field: string): Kind {
  return FIELDS[field]?.kind ?? "text";
}

/** The operators a field takes (change tests: event rules only). */
export function opsFor(field: string, ruleKind: "event" | "time"): string[] {
  const ops = KIND_OPS[kindOf(field)];
  return ruleKind === "event" ? ops : ops.filter((op) => !CHANGE.includes(op));
}

export function isListOp(op: string): boolean {
  return LIST_OPS.includes(op);
}

export function takesValue(op: string): boolean {
  return op !== "changed";
}

export function nullable(op: string): boolean {
  return NULLABLE_OPS.includes(op);
}

function splitList(text: string): string[] {
  return text
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean);
}

/** A custom field's value as typed JSON; a number that does not parse is sent as the text
 * (the API then names the field). */
function typed(value: string, type: ValueType): unknown {
  if (type === "null") return null;
  if (type === "boolean") return value !== "false"; // the select shows "Yes" first
  if (type === "number") {
    const n = Number(value.trim());
    return value.trim() !== "" && Number.isFinite(n) ? n : value;
  }
  return value;
}

function numberOf(value: string): unknown {
  const n = Number(value.trim());
  return value.trim() !== "" && Number.isFinite(n) ? n : value;
}

function testValue(t: TestForm): unknown {
  const kind = kindOf(t.field);
  const source = FIELDS[t.field]?.source ?? null;
  if (isListOp(t.op)) {
    if (source) return t.values;
    const items = splitList(t.value);
    if (kind === "tags") return items.map((x) => x.toLowerCase());
    if (kind === "custom") return items.map((x) => typed(x, t.valueType));
    return items;
  }
  if (kind === "flag") return t.value !== "false";
  if (kind === "hours" || NUMBER_OPS.includes(t.op)) return numberOf(t.value);
  if (kind === "custom") return typed(t.value, t.valueType);
  if (kind === "tags") return t.value.trim().toLowerCase();
  if (source && t.value === "" && nullable(t.op)) return null;
  return t.value;
}

export function nodeToApi(n: NodeForm): Record<string, unknown> {
  if (n.node === "group") return { [n.mode]: n.items.map(nodeToApi) };
  const field = n.field === CUSTOM ? `custom_fields.${n.customKey.trim()}` : n.field;
  const out: Record<string, unknown> = { field, op: n.op };
  if (takesValue(n.op)) out.value = testValue(n);
  if (n.business && kindOf(n.field) === "hours") out.business = true;
  return out;
}

function typeOfJson(value: unknown): ValueType {
  if (value === null) return "null";
  if (typeof value === "boolean") return "boolean";
  if (typeof value === "number") return "number";
  return "text";
}

function textOf(value: unknown): string {
  return value === null || value === undefined ? "" : String(value);
}

export function nodeFromApi(raw: unknown): NodeForm {
  const obj = (raw ?? {}) as Record<string, unknown>;
  for (const mode of ["all", "any"] as const) {
    if (Array.isArray(obj[mode])) return { node: "group", mode, items: (obj[mode] as unknown[]).map(nodeFromApi) };
  }
  const name = String(obj.field ?? "title");
  const custom = name.startsWith("custom_fields.");
  const field = custom ? CUSTOM : name;
  const value = obj.value;
  const list = Array.isArray(value) ? value : null;
  const source = FIELDS[field]?.source ?? null;
  return {
    node: "test",
    field,
    customKey: custom ? name.slice("custom_fields.".length) : "",
    op: String(obj.op ?? "is"),
    value: list ? (source ? "" : list.map(textOf).join(", ")) : typeof value === "boolean" && !custom ? String(value) : textOf(value),
    values: list && source ? list.map(textOf) : [],
    valueType: custom ? typeOfJson(list ? list[0] : value) : "text",
    business: obj.business === true,
  };
}

export function triggerToApi(t: TriggerForm): Record<string, unknown> {
  const out: Record<string, unknown> = { event: t.event };
  if (t.event === "updated" && splitList(t.fields).length) out.fields = splitList(t.fields);
  if (t.event === "commented" && t.visibility) out.visibility = t.visibility;
  if (t.event === "commented" && t.by) out.by = t.by;
  return out;
}

export function actionToApi(a: ActionForm): Record<string, unknown> {
  switch (a.type) {
    case "set_field": {
      const custom = a.field === CUSTOM;
      const field = custom ? `custom_fields.${a.customKey.trim()}` : a.field;
      let value: unknown = a.value;
      if (custom) value = typed(a.value, a.valueType);
      else if (a.field === "category_id" && a.value === "") value = null;
      return { type: a.type, field, value };
    }
    case "add_tags":
    case "remove_tags":
      return { type: a.type, tags: splitList(a.tags).map((x) => x.toLowerCase()) };
    case "set_status":
      return { type: a.type, status: a.status };
    case "assign": {
      const out: Record<string, unknown> = { type: a.type };
      if (a.teamMode === "none") out.team_id = null;
      if (a.teamMode === "set") out.team_id = a.teamId || null;
      if (a.assigneeMode === "none") out.assignee_id = null;
      if (a.assigneeMode === "person") out.assignee_id = a.assigneeId || null;
      if (a.assigneeMode === "rule") out.assignee_rule = a.assigneeRule;
      return out;
    }
    case "reply":
    case "note":
      return { type: a.type, body: a.body };
    case "notify":
      return { type: a.type, to: [...a.to, ...a.people], subject: a.subject, body: a.body };
    case "webhook":
      return { type: a.type, webhook_id: a.webhookId };
    case "apply_macro":
      return { type: a.type, macro_id: a.macroId };
  }
}

export function actionFromApi(raw: Record<string, unknown>): ActionForm {
  const a = newAction(raw.type as ActionForm["type"]);
  switch (a.type) {
    case "set_field": {
      const name = String(raw.field ?? "priority");
      const custom = name.startsWith("custom_fields.");
      return { ...a, field: custom ? CUSTOM : name, customKey: custom ? name.slice(14) : "", value: textOf(raw.value), valueType: custom ? typeOfJson(raw.value) : "text" };
    }
    case "add_tags":
    case "remove_tags":
      return { ...a, tags: ((raw.tags as string[]) ?? []).join(", ") };
    case "set_status":
      return { ...a, status: String(raw.status ?? "open") };
    case "assign":
      return {
        ...a,
        teamMode: "team_id" in raw ? (raw.team_id === null ? "none" : "set") : "keep",
        teamId: textOf(raw.team_id),
        assigneeMode: "assignee_rule" in raw && raw.assignee_rule ? "rule" : "assignee_id" in raw ? (raw.assignee_id === null ? "none" : "person") : "keep",
        assigneeId: textOf(raw.assignee_id),
        assigneeRule: textOf(raw.assignee_rule) || "round_robin",
      };
    case "reply":
    case "note":
      return { ...a, body: textOf(raw.body) };
    case "notify": {
      const to = ((raw.to as string[]) ?? []).map(String);
      return {
        ...a,
        to: to.filter((x) => (RECIPIENTS as readonly string[]).includes(x)),
        people: to.filter((x) => !(RECIPIENTS as readonly string[]).includes(x)),
        subject: textOf(raw.subject),
        body: textOf(raw.body),
      };
    }
    case "webhook":
      return { ...a, webhookId: textOf(raw.webhook_id) };
    case "apply_macro":
      return { ...a, macroId: textOf(raw.macro_id) };
  }
}

export function ruleToApi(form: RuleForm) {
  const loop = Number(form.loopLimit);
  return {
    name: form.name,
    description: form.description,
    kind: form.kind,
    active: form.active,
    loop_limit: form.loopLimit.trim() !== "" && Number.isInteger(loop) ? loop : (form.loopLimit as unknown as number),
    triggers: form.kind === "event" ? form.triggers.map(triggerToApi) : [],
    conditions: nodeToApi(form.conditions),
    actions: form.actions.map(actionToApi),
  };
}

export interface RuleJson {
  name: string;
  description: string;
  kind: "event" | "time";
  active: boolean;
  loop_limit: number;
  triggers: Record<string, unknown>[];
  conditions: Record<string, unknown>;
  actions: Record<string, unknown>[];
}

export function ruleFromApi(rule: RuleJson): RuleForm {
  const root = nodeFromApi(rule.conditions);
  return {
    name: rule.name,
    description: rule.description,
    kind: rule.kind,
    active: rule.active,
    loopLimit: String(rule.loop_limit),
    triggers: rule.triggers.map((t) => ({
      event: String(t.event),
      fields: Array.isArray(t.fields) ? (t.fields as string[]).join(", ") : "",
      visibility: (t.visibility as TriggerForm["visibility"]) ?? "",
      by: (t.by as TriggerForm["by"]) ?? "",
    })),
    conditions: root.node === "group" ? root : { node: "group", mode: "all", items: [root] },
    actions: rule.actions.map(actionFromApi),
  };
}

/** The API's field path with an action's type segment dropped: pydantic names a
 * discriminated union's member ("actions.0.set_field.field"), the form does not. */
export function normalisePath(path: string): string {
  return path.replace(/^actions\.(\d+)\.(set_field|add_tags|remove_tags|set_status|assign|reply|note|notify|webhook|apply_macro)(\.|$)/, "actions.$1$3").replace(/\.$/, "");
}

/** Field errors by the form's paths. */
export function errorsByPath(errors: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [path, detail] of Object.entries(errors)) {
    const key = normalisePath(path);
    if (!(key in out)) out[key] = detail;
  }
  return out;
}

/** The error of `path`, or of anything under it when `deep` (a row shows its own). */
export function errorAt(errors: Record<string, string>, path: string, deep = false): string | undefined {
  if (errors[path]) return errors[path];
  if (!deep) return undefined;
  const under = Object.keys(errors).find((k) => k.startsWith(`${path}.`));
  return under ? errors[under] : undefined;
}

/** Depth of a group path ("conditions" is 0, "conditions.all.1" 1, ...). */
export function depthOf(path: string): number {
  return (path.match(/\.(all|any)\.\d+/g) ?? []).length;
}
