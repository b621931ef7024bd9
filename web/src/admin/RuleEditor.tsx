import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, idempotencyKey, ok } from "../api/client";
import { ApiError } from "../api/problem";
import type { components } from "../api/schema";
import { Alert, Button, Card, Field, Input, Select, Textarea } from "../components/ui";
import { t, type MessageKey } from "../i18n";
import { STATUS_LABELS } from "../lib/format";
import { allPages, useAdminCategories, useAdminTeams, useAdminTicketTypes, useWebhooks } from "./api";
import { Checkbox, CheckboxGroup } from "./fields";
import {
  ACTION_TYPES,
  ASSIGNEE_RULES,
  CHANNELS,
  CUSTOM,
  FIELDS,
  LEVELS,
  MAX_DEPTH,
  RECIPIENTS,
  SETTABLE,
  STATUSES,
  TRIGGER_EVENTS,
  emptyRule,
  errorAt,
  errorsByPath,
  isListOp,
  kindOf,
  newAction,
  newGroup,
  newTest,
  newTrigger,
  nullable,
  opsFor,
  ruleFromApi,
  ruleToApi,
  takesValue,
  type ActionForm,
  type GroupForm,
  type NodeForm,
  type RuleForm,
  type RuleJson,
  type Source,
  type TestForm,
  type TriggerForm,
  type ValueType,
} from "./ruleForm";

type Rule = components["schemas"]["RulePublic"];
type DryRunResult = components["schemas"]["DryRunResult"];
type RuleCreate = components["schemas"]["RuleCreate"];
type Errors = Record<string, string>;
type Option = { value: string; label: string };
type Lists = Record<Exclude<Source, null>, Option[]>;

export const KEY = ["admin", "automations"] as const;
const VALUE_TYPES: ValueType[] = ["text", "number", "boolean", "null"];

/** Every list a value may be picked from: fixed ones and the tenant's. */
function useLists(): Lists {
  const teams = useAdminTeams();
  const categories = useAdminCategories();
  const types = useAdminTicketTypes();
  const users = useQuery({
    queryKey: ["admin", "automations", "users"],
    queryFn: ({ signal }) => allPages((cursor) => ok(api.GET("/v1/users", { params: { query: { limit: 100, cursor, active: true } }, signal })), 500),
    select: (r) => r.items,
  });
  return {
    statuses: STATUSES.map((s) => ({ value: s, label: STATUS_LABELS[s] })),
    levels: LEVELS.map((l) => ({ value: l, label: l })),
    channels: CHANNELS.map((c) => ({ value: c, label: c })),
    types: (types.data ?? []).map((x) => ({ value: x.key, label: x.name })),
    users: (users.data ?? []).map((u) => ({ value: u.id, label: `${u.name} (${u.email})` })),
    teams: (teams.data ?? []).map((x) => ({ value: x.id, label: x.name })),
    categories: (categories.data ?? []).map((x) => ({ value: x.id, label: x.name })),
  };
}

function problemText(error: unknown): string {
  if (error instanceof ApiError) {
    const fields = Object.entries(error.fieldErrors).map(([k, v]) => `${k}: ${v}`);
    return fields.length ? fields.join("; ") : error.message;
  }
  return error instanceof Error ? error.message : t("automation.somethingWrong");
}

function fieldErrorsOf(error: unknown): Errors {
  return error instanceof ApiError ? errorsByPath(error.fieldErrors) : {};
}

// --- conditions ---------------------------------------------------------------------------

function ValueInput({ test, path, label, lists, errors, onChange }: { test: TestForm; path: string; label: string; lists: Lists; errors: Errors; onChange: (patch: Partial<TestForm>) => void }) {
  if (!takesValue(test.op)) return null;
  const kind = kindOf(test.field);
  const source = FIELDS[test.field]?.source ?? null;
  const error = errorAt(errors, `${path}.value`, true);
  if (kind === "flag") {
    return (
      <Field label={t("automation.conditionValue", { path: label })} error={error}>
        {(p) => (
          <Select {...p} value={test.value || "true"} onChange={(e) => onChange({ value: e.target.value })}>
            <option value="true">{t("automation.yes")}</option>
            <option value="false">{t("automation.no")}</option>
          </Select>
        )}
      </Field>
    );
  }
  if (source && isListOp(test.op)) {
    return (
      <Field label={t("automation.conditionValues", { path: label })} error={error}>
        {(p) => (
          <Select {...p} multiple value={test.values} className="h-24" onChange={(e) => onChange({ values: Array.from(e.target.selectedOptions, (o) => o.value) })}>
            {lists[source].map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </Select>
        )}
      </Field>
    );
  }
  if (source) {
    return (
      <Field label={t("automation.conditionValue", { path: label })} error={error}>
        {(p) => (
          <Select {...p} value={test.value} onChange={(e) => onChange({ value: e.target.value })}>
            {nullable(test.op) ? <option value="">{t("automation.none.value")}</option> : <option value="">{t("automation.choose")}</option>}
            {lists[source].map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </Select>
        )}
      </Field>
    );
  }
  const typeSelect =
    kind === "custom" && !["gt", "gte", "lt", "lte", "contains", "not_contains", "matches"].includes(test.op) ? (
      <Field label={t("automation.conditionType", { path: label })}>
        {(p) => (
          <Select {...p} value={test.valueType} onChange={(e) => onChange({ valueType: e.target.value as ValueType })}>
            {VALUE_TYPES.filter((v) => v !== "null" || nullable(test.op)).map((v) => (
              <option key={v} value={v}>
                {t(`automation.valueType.${v}` as MessageKey)}
              </option>
            ))}
          </Select>
        )}
      </Field>
    ) : null;
  if (kind === "custom" && test.valueType === "null" && typeSelect) return typeSelect;
  if (kind === "custom" && test.valueType === "boolean" && typeSelect && !isListOp(test.op)) {
    return (
      <>
        {typeSelect}
        <Field label={t("automation.conditionValue", { path: label })} error={error}>
          {(p) => (
            <Select {...p} value={test.value === "false" ? "false" : "true"} onChange={(e) => onChange({ value: e.target.value })}>
              <option value="true">{t("automation.yes")}</option>
              <option value="false">{t("automation.no")}</option>
            </Select>
          )}
        </Field>
      </>
    );
  }
  const numeric = kind === "hours" || ["gt", "gte", "lt", "lte"].includes(test.op);
  return (
    <>
      {typeSelect}
      <Field label={t(isListOp(test.op) ? "automation.conditionValues" : "automation.conditionValue", { path: label })} error={error} description={isListOp(test.op) ? t("automation.listHelp") : undefined}>
        {(p) => <Input {...p} inputMode={numeric ? "decimal" : undefined} value={test.value} onChange={(e) => onChange({ value: e.target.value })} />}
      </Field>
    </>
  );
}

function ConditionRow({ test, path, label, ruleKind, lists, errors, onChange, onRemove }: { test: TestForm; path: string; label: string; ruleKind: "event" | "time"; lists: Lists; errors: Errors; onChange: (test: TestForm) => void; onRemove: () => void }) {
  const patch = (p: Partial<TestForm>) => onChange({ ...test, ...p });
  const ops = opsFor(test.field, ruleKind);
  return (
    <div className="flex flex-wrap items-end gap-2 rounded-md border border-border p-2" data-testid="condition-row">
      <Field label={t("automation.conditionField", { path: label })} error={errorAt(errors, `${path}.field`) ?? errorAt(errors, path)}>
        {(p) => (
          <Select {...p} value={test.field} onChange={(e) => onChange({ ...newTest(e.target.value), op: opsFor(e.target.value, ruleKind)[0] ?? "is" })}>
            {Object.keys(FIELDS).map((f) => (
              <option key={f} value={f}>
                {t(`automation.field.${f}` as MessageKey)}
              </option>
            ))}
          </Select>
        )}
      </Field>
      {test.field === CUSTOM ? (
        <Field label={t("automation.conditionKey", { path: label })} error={errorAt(errors, `${path}.field`)}>
          {(p) => <Input {...p} value={test.customKey} onChange={(e) => patch({ customKey: e.target.value })} />}
        </Field>
      ) : null}
      <Field label={t("automation.conditionTest", { path: label })} error={errorAt(errors, `${path}.op`)}>
        {(p) => (
          <Select {...p} value={ops.includes(test.op) ? test.op : ops[0]} onChange={(e) => patch({ op: e.target.value, values: [] })}>
            {ops.map((op) => (
              <option key={op} value={op}>
                {t(`automation.op.${op}` as MessageKey)}
              </option>
            ))}
          </Select>
        )}
      </Field>
      <ValueInput test={test} path={path} label={label} lists={lists} errors={errors} onChange={patch} />
      {kindOf(test.field) === "hours" ? (
        <Checkbox label={t("automation.conditionBusiness", { path: label })} description={t("automation.businessHelp")} checked={test.business} error={errorAt(errors, `${path}.business`)} onChange={(v) => patch({ business: v })} />
      ) : null}
      <Button size="sm" onClick={onRemove}>
        {t("automation.removeCondition", { path: label })}
      </Button>
    </div>
  );
}

function ConditionGroup({ group, path, label, depth, ruleKind, lists, errors, onChange, onRemove }: { group: GroupForm; path: string; label: string; depth: number; ruleKind: "event" | "time"; lists: Lists; errors: Errors; onChange: (group: GroupForm) => void; onRemove?: () => void }) {
  const root = depth === 0;
  const setItem = (i: number, item: NodeForm) => onChange({ ...group, items: group.items.map((x, n) => (n === i ? item : x)) });
  const drop = (i: number) => onChange({ ...group, items: group.items.filter((_, n) => n !== i) });
  const childLabel = (i: number) => (root ? String(i + 1) : `${label}.${i + 1}`);
  const groupError = errorAt(errors, path) ?? errorAt(errors, `${path}.${group.mode}`);
  return (
    <div className={root ? "space-y-2" : "space-y-2 rounded-md border border-border-strong p-2"} role={root ? undefined : "group"} aria-label={root ? undefined : t("automation.group", { path: label })} data-testid={root ? undefined : "condition-group"}>
      <Field label={root ? t("automation.matchRoot") : t("automation.match", { path: label })} error={groupError}>
        {(p) => (
          <Select {...p} value={group.mode} onChange={(e) => onChange({ ...group, mode: e.target.value as GroupForm["mode"] })}>
            <option value="all">{t("automation.match.all")}</option>
            <option value="any">{t("automation.match.any")}</option>
          </Select>
        )}
      </Field>
      {group.items.map((item, i) => {
        const at = `${path}.${group.mode}.${i}`;
        return item.node === "group" ? (
          <ConditionGroup key={i} group={item} path={at} label={childLabel(i)} depth={depth + 1} ruleKind={ruleKind} lists={lists} errors={errors} onChange={(g) => setItem(i, g)} onRemove={() => drop(i)} />
        ) : (
          <ConditionRow key={i} test={item} path={at} label={childLabel(i)} ruleKind={ruleKind} lists={lists} errors={errors} onChange={(x) => setItem(i, x)} onRemove={() => drop(i)} />
        );
      })}
      <div className="flex flex-wrap gap-2">
        <Button size="sm" onClick={() => onChange({ ...group, items: [...group.items, newTest()] })}>
          {root ? t("automation.addConditionRoot") : t("automation.addCondition", { path: label })}
        </Button>
        {depth + 1 < MAX_DEPTH ? (
          <Button size="sm" onClick={() => onChange({ ...group, items: [...group.items, group.mode === "all" ? newGroup("any") : newGroup("all")] })}>
            {root ? t("automation.addGroupRoot") : t("automation.addGroup", { path: label })}
          </Button>
        ) : null}
        {onRemove ? (
          <Button size="sm" onClick={onRemove}>
            {t("automation.removeGroup", { path: label })}
          </Button>
        ) : null}
      </div>
    </div>
  );
}

// --- triggers -------------------------------------------------------------------------------

function TriggerRow({ trigger, i, count, errors, onChange, onRemove }: { trigger: TriggerForm; i: number; count: number; errors: Errors; onChange: (t: TriggerForm) => void; onRemove: () => void }) {
  const n = i + 1;
  const at = `triggers.${i}`;
  return (
    <div className="flex flex-wrap items-end gap-2" data-testid="trigger-row">
      <Field label={count === 1 ? t("automation.trigger", { n: "" }).trim() : t("automation.trigger", { n })} error={errorAt(errors, `${at}.event`) ?? errorAt(errors, at)}>
        {(p) => (
          <Select {...p} value={trigger.event} onChange={(e) => onChange({ ...newTrigger(e.target.value) })}>
            {TRIGGER_EVENTS.map((ev) => (
              <option key={ev} value={ev}>
                {t(`automation.event.${ev}` as MessageKey)}
              </option>
            ))}
          </Select>
        )}
      </Field>
      {trigger.event === "updated" ? (
        <Field label={t("automation.triggerFields", { n })} description={t("automation.triggerFieldsHelp")} error={errorAt(errors, `${at}.fields`, true)}>
          {(p) => <Input {...p} value={trigger.fields} onChange={(e) => onChange({ ...trigger, fields: e.target.value })} />}
        </Field>
      ) : null}
      {trigger.event === "commented" ? (
        <>
          <Field label={t("automation.triggerVisibility", { n })} error={errorAt(errors, `${at}.visibility`)}>
            {(p) => (
              <Select {...p} value={trigger.visibility} onChange={(e) => onChange({ ...trigger, visibility: e.target.value as TriggerForm["visibility"] })}>
                <option value="">{t("automation.any")}</option>
                <option value="public">{t("automation.public")}</option>
                <option value="internal">{t("automation.internal")}</option>
              </Select>
            )}
          </Field>
          <Field label={t("automation.triggerBy", { n })} error={errorAt(errors, `${at}.by`)}>
            {(p) => (
              <Select {...p} value={trigger.by} onChange={(e) => onChange({ ...trigger, by: e.target.value as TriggerForm["by"] })}>
                <option value="">{t("automation.any")}</option>
                <option value="requester">{t("automation.byRequester")}</option>
                <option value="agent">{t("automation.byAgent")}</option>
              </Select>
            )}
          </Field>
        </>
      ) : null}
      {count > 1 ? (
        <Button size="sm" onClick={onRemove}>
          {t("automation.removeTrigger", { n })}
        </Button>
      ) : null}
    </div>
  );
}

// --- actions --------------------------------------------------------------------------------

function OptionsOf({ options, empty }: { options: Option[]; empty?: string }) {
  return (
    <>
      {empty !== undefined ? <option value="">{empty}</option> : null}
      {options.map((o) => (
        <option key={o.value} value={o.value}>
          {o.label}
        </option>
      ))}
    </>
  );
}

function ActionRow({ action, i, count, lists, webhooks, macros, placeholders, errors, onChange, onRemove }: { action: ActionForm; i: number; count: number; lists: Lists; webhooks: Option[]; macros: Option[]; placeholders: string[]; errors: Errors; onChange: (a: ActionForm) => void; onRemove: () => void }) {
  const n = i + 1;
  const at = `actions.${i}`;
  const patch = (p: Partial<ActionForm>) => onChange({ ...action, ...p });
  const err = (key: string) => errorAt(errors, `${at}.${key}`, true);
  const hint = placeholders.length ? t("automation.placeholders", { names: placeholders.map((x) => `{{${x}}}`).join(", ") }) : undefined;
  const fieldSource: Source = action.field === "category_id" ? "categories" : action.field === "type" ? "types" : ["priority", "impact", "urgency"].includes(action.field) ? "levels" : null;
  return (
    <div className="flex flex-wrap items-end gap-2 rounded-md border border-border p-2" data-testid="action-row">
      <Field label={t("automation.action", { n })} error={errorAt(errors, at) ?? errorAt(errors, `${at}.type`)}>
        {(p) => (
          <Select {...p} value={action.type} onChange={(e) => onChange(newAction(e.target.value as ActionForm["type"]))}>
            {ACTION_TYPES.map((x) => (
              <option key={x} value={x}>
                {t(`automation.action.${x}` as MessageKey)}
              </option>
            ))}
          </Select>
        )}
      </Field>
      {action.type === "set_field" ? (
        <>
          <Field label={t("automation.actionField", { n })} error={err("field")}>
            {(p) => (
              <Select {...p} value={action.field} onChange={(e) => patch({ field: e.target.value, value: "", valueType: "text" })}>
                {[...SETTABLE, CUSTOM].map((f) => (
                  <option key={f} value={f}>
                    {t(`automation.field.${f}` as MessageKey)}
                  </option>
                ))}
              </Select>
            )}
          </Field>
          {action.field === CUSTOM ? (
            <>
              <Field label={t("automation.actionKey", { n })}>{(p) => <Input {...p} value={action.customKey} onChange={(e) => patch({ customKey: e.target.value })} />}</Field>
              <Field label={t("automation.actionType", { n })}>
                {(p) => (
                  <Select {...p} value={action.valueType} onChange={(e) => patch({ valueType: e.target.value as ValueType })}>
                    {VALUE_TYPES.map((v) => (
                      <option key={v} value={v}>
                        {t(`automation.valueType.${v}` as MessageKey)}
                      </option>
                    ))}
                  </Select>
                )}
              </Field>
            </>
          ) : null}
          {action.field === CUSTOM && action.valueType === "null" ? null : fieldSource ? (
            <Field label={t("automation.actionValue", { n })} error={err("value")}>
              {(p) => (
                <Select {...p} value={action.value} onChange={(e) => patch({ value: e.target.value })}>
                  <OptionsOf options={lists[fieldSource]} empty={action.field === "category_id" ? t("automation.none.value") : t("automation.choose")} />
                </Select>
              )}
            </Field>
          ) : action.field === CUSTOM && action.valueType === "boolean" ? (
            <Field label={t("automation.actionValue", { n })} error={err("value")}>
              {(p) => (
                <Select {...p} value={action.value === "false" ? "false" : "true"} onChange={(e) => patch({ value: e.target.value })}>
                  <option value="true">{t("automation.yes")}</option>
                  <option value="false">{t("automation.no")}</option>
                </Select>
              )}
            </Field>
          ) : (
            <Field label={t("automation.actionValue", { n })} error={err("value")}>
              {(p) => <Input {...p} value={action.value} onChange={(e) => patch({ value: e.target.value })} />}
            </Field>
          )}
        </>
      ) : null}
      {action.type === "add_tags" || action.type === "remove_tags" ? (
        <Field label={t("automation.actionTags", { n })} description={t("automation.listHelp")} error={err("tags")}>
          {(p) => <Input {...p} value={action.tags} onChange={(e) => patch({ tags: e.target.value })} />}
        </Field>
      ) : null}
      {action.type === "set_status" ? (
        <Field label={t("automation.actionStatus", { n })} error={err("status")}>
          {(p) => (
            <Select {...p} value={action.status} onChange={(e) => patch({ status: e.target.value })}>
              <OptionsOf options={lists.statuses} />
            </Select>
          )}
        </Field>
      ) : null}
      {action.type === "assign" ? (
        <>
          <Field label={t("automation.actionTeam", { n })}>
            {(p) => (
              <Select {...p} value={action.teamMode} onChange={(e) => patch({ teamMode: e.target.value as ActionForm["teamMode"] })}>
                <option value="keep">{t("automation.keep")}</option>
                <option value="none">{t("automation.clear")}</option>
                <option value="set">{t("automation.setTeam")}</option>
              </Select>
            )}
          </Field>
          {action.teamMode === "set" ? (
            <Field label={t("automation.actionTeamPick", { n })} error={err("team_id")}>
              {(p) => (
                <Select {...p} value={action.teamId} onChange={(e) => patch({ teamId: e.target.value })}>
                  <OptionsOf options={lists.teams} empty={t("automation.choose")} />
                </Select>
              )}
            </Field>
          ) : null}
          <Field label={t("automation.actionAssignee", { n })}>
            {(p) => (
              <Select {...p} value={action.assigneeMode} onChange={(e) => patch({ assigneeMode: e.target.value as ActionForm["assigneeMode"] })}>
                <option value="keep">{t("automation.keep")}</option>
                <option value="none">{t("automation.clear")}</option>
                <option value="person">{t("automation.person")}</option>
                <option value="rule">{t("automation.byStrategy")}</option>
              </Select>
            )}
          </Field>
          {action.assigneeMode === "person" ? (
            <Field label={t("automation.actionPerson", { n })} error={err("assignee_id")}>
              {(p) => (
                <Select {...p} value={action.assigneeId} onChange={(e) => patch({ assigneeId: e.target.value })}>
                  <OptionsOf options={lists.users} empty={t("automation.choose")} />
                </Select>
              )}
            </Field>
          ) : null}
          {action.assigneeMode === "rule" ? (
            <Field label={t("automation.actionStrategy", { n })} error={err("assignee_rule")}>
              {(p) => (
                <Select {...p} value={action.assigneeRule} onChange={(e) => patch({ assigneeRule: e.target.value })}>
                  {ASSIGNEE_RULES.map((r) => (
                    <option key={r} value={r}>
                      {t(`automation.strategy.${r}` as MessageKey)}
                    </option>
                  ))}
                </Select>
              )}
            </Field>
          ) : null}
        </>
      ) : null}
      {action.type === "notify" ? (
        <>
          <CheckboxGroup
            legend={t("automation.actionRecipients", { n })}
            options={RECIPIENTS.map((r) => ({ value: r, label: t(`automation.recipient.${r}` as MessageKey) }))}
            value={action.to}
            error={errorAt(errors, `${at}.to`)}
            onChange={(to) => patch({ to })}
          />
          <Field label={t("automation.actionPeople", { n })} error={errorAt(errors, `${at}.to`, true)}>
            {(p) => (
              <Select {...p} multiple className="h-24" value={action.people} onChange={(e) => patch({ people: Array.from(e.target.selectedOptions, (o) => o.value) })}>
                <OptionsOf options={lists.users} />
              </Select>
            )}
          </Field>
          <Field label={t("automation.actionSubject", { n })} error={err("subject")}>
            {(p) => <Input {...p} value={action.subject} maxLength={200} onChange={(e) => patch({ subject: e.target.value })} />}
          </Field>
        </>
      ) : null}
      {action.type === "reply" || action.type === "note" || action.type === "notify" ? (
        <Field label={t("automation.actionBody", { n })} description={hint} error={err("body")} className="w-full">
          {(p) => <Textarea {...p} rows={3} value={action.body} onChange={(e) => patch({ body: e.target.value })} />}
        </Field>
      ) : null}
      {action.type === "webhook" ? (
        <Field label={t("automation.actionWebhook", { n })} error={err("webhook_id")}>
          {(p) => (
            <Select {...p} value={action.webhookId} onChange={(e) => patch({ webhookId: e.target.value })}>
              <OptionsOf options={webhooks} empty={t("automation.choose")} />
            </Select>
          )}
        </Field>
      ) : null}
      {action.type === "apply_macro" ? (
        <Field label={t("automation.actionMacro", { n })} error={err("macro_id")}>
          {(p) => (
            <Select {...p} value={action.macroId} onChange={(e) => patch({ macroId: e.target.value })}>
              <OptionsOf options={macros} empty={t("automation.choose")} />
            </Select>
          )}
        </Field>
      ) : null}
      <Button size="sm" disabled={count === 1} onClick={onRemove}>
        {t("automation.removeAction", { n })}
      </Button>
    </div>
  );
}

// --- the editor -----------------------------------------------------------------------------

export function RuleEditor({ editing, onDone }: { editing: Rule | null; onDone: () => void }) {
  const client = useQueryClient();
  const [form, setForm] = useState<RuleForm>(() => (editing ? ruleFromApi(editing as unknown as RuleJson) : emptyRule()));
  const [key, setKey] = useState(idempotencyKey);
  const [dry, setDry] = useState<DryRunResult | null>(null);
  const lists = useLists();
  const hooks = useWebhooks();
  const macros = useQuery({
    queryKey: ["admin", "automations", "macros"],
    queryFn: ({ signal }) => allPages((cursor) => ok(api.GET("/v1/macros", { params: { query: { limit: 100, cursor } }, signal })), 500),
    select: (r) => r.items.filter((m) => m.scope !== "personal" && !m.archived),
  });
  const placeholders = useQuery({
    queryKey: ["admin", "automations", "placeholders"],
    queryFn: ({ signal }) => ok(api.GET("/v1/macros/placeholders", { signal })),
    select: (r) => r.map((x) => x.name).filter((x) => !x.startsWith("agent.")),
  });
  const set = <K extends keyof RuleForm>(k: K, v: RuleForm[K]) => setForm((f) => ({ ...f, [k]: v }));
  const save = useMutation({
    mutationFn: () => {
      const body = ruleToApi(form);
      if (editing) {
        const { kind: _kind, ...update } = body;
        return ok(api.PATCH("/v1/automations/{rule_id}", { params: { path: { rule_id: editing.id } }, body: { ...update, version: editing.version } as never }));
      }
      return ok(api.POST("/v1/automations", { params: { header: { "Idempotency-Key": key } }, body: body as unknown as RuleCreate }));
    },
    onSuccess: () => {
      setForm(emptyRule());
      setKey(idempotencyKey());
      setDry(null);
      void client.invalidateQueries({ queryKey: KEY });
      onDone();
    },
  });
  const dryRun = useMutation({
    mutationFn: () => ok(api.POST("/v1/automations/dry-run", { body: { kind: form.kind, conditions: ruleToApi(form).conditions, limit: 10 } })),
    onSuccess: setDry,
  });
  const errors: Errors = { ...fieldErrorsOf(dryRun.error), ...fieldErrorsOf(save.error) };
  const title = editing ? t("automation.editing", { name: editing.name }) : t("automation.newRule");
  return (
    <Card aria-labelledby="rule-editor-title">
      <h2 id="rule-editor-title" className="text-lg font-semibold">
        {title}
      </h2>
      <form
        className="mt-3 space-y-4"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate();
        }}
      >
        <Field label={t("automation.name")} required error={errorAt(errors, "name")}>
          {(p) => <Input {...p} value={form.name} maxLength={200} onChange={(e) => set("name", e.target.value)} />}
        </Field>
        <Field label={t("automation.description")} error={errorAt(errors, "description")}>
          {(p) => <Input {...p} value={form.description} maxLength={2000} onChange={(e) => set("description", e.target.value)} />}
        </Field>
        <div className="flex flex-wrap items-end gap-4">
          <Field label={t("automation.runs")} error={errorAt(errors, "kind")}>
            {(p) => (
              <Select {...p} value={form.kind} disabled={editing !== null} onChange={(e) => set("kind", e.target.value as RuleForm["kind"])}>
                <option value="event">{t("automation.runs.event")}</option>
                <option value="time">{t("automation.runs.time")}</option>
              </Select>
            )}
          </Field>
          <Field label={t("automation.loopLimit")} description={t("automation.loopLimitHelp")} error={errorAt(errors, "loop_limit")}>
            {(p) => <Input {...p} inputMode="numeric" value={form.loopLimit} onChange={(e) => set("loopLimit", e.target.value)} />}
          </Field>
          <Checkbox label={t("automation.active")} checked={form.active} onChange={(v) => set("active", v)} />
        </div>
        {form.kind === "event" ? (
          <fieldset className="space-y-2" aria-describedby={errors.triggers ? "triggers-error" : undefined}>
            <legend className="font-medium">{t("automation.triggers")}</legend>
            {form.triggers.map((trigger, i) => (
              <TriggerRow
                key={i}
                trigger={trigger}
                i={i}
                count={form.triggers.length}
                errors={errors}
                onChange={(x) => set("triggers", form.triggers.map((y, n) => (n === i ? x : y)))}
                onRemove={() => set("triggers", form.triggers.filter((_, n) => n !== i))}
              />
            ))}
            {errors.triggers ? (
              <p id="triggers-error" className="font-medium text-danger-text">
                {errors.triggers}
              </p>
            ) : null}
            <Button size="sm" onClick={() => set("triggers", [...form.triggers, newTrigger("updated")])}>
              {t("automation.addTrigger")}
            </Button>
          </fieldset>
        ) : null}
        <fieldset className="space-y-2">
          <legend className="font-medium">{t("automation.conditions")}</legend>
          <ConditionGroup group={form.conditions} path="conditions" label="" depth={0} ruleKind={form.kind} lists={lists} errors={errors} onChange={(g) => set("conditions", g)} />
        </fieldset>
        <fieldset className="space-y-2">
          <legend className="font-medium">{t("automation.actions")}</legend>
          {form.actions.map((action, i) => (
            <ActionRow
              key={i}
              action={action}
              i={i}
              count={form.actions.length}
              lists={lists}
              webhooks={(hooks.data ?? []).map((h) => ({ value: h.id, label: h.url }))}
              macros={(macros.data ?? []).map((m) => ({ value: m.id, label: m.name }))}
              placeholders={placeholders.data ?? []}
              errors={errors}
              onChange={(x) => set("actions", form.actions.map((y, n) => (n === i ? x : y)))}
              onRemove={() => set("actions", form.actions.filter((_, n) => n !== i))}
            />
          ))}
          {errorAt(errors, "actions") ? <p className="font-medium text-danger-text">{errorAt(errors, "actions")}</p> : null}
          <Button size="sm" onClick={() => set("actions", [...form.actions, newAction()])}>
            {t("automation.addAction")}
          </Button>
        </fieldset>
        {save.error ? (
          <Alert tone="danger" title={t("automation.notSaved")}>
            {problemText(save.error)}
          </Alert>
        ) : null}
        {dryRun.error ? (
          <Alert tone="danger" title={t("automation.dryRunFailed")}>
            {problemText(dryRun.error)}
          </Alert>
        ) : null}
        <div className="flex flex-wrap gap-2">
          <Button type="submit" variant="primary" disabled={save.isPending}>
            {editing ? t("automation.save") : t("automation.create")}
          </Button>
          <Button onClick={() => dryRun.mutate()} disabled={dryRun.isPending}>
            {t("automation.dryRun")}
          </Button>
          {editing ? <Button onClick={onDone}>{t("automation.cancelEdit")}</Button> : null}
        </div>
        {dry ? (
          <section aria-label={t("automation.dryRunResult")} data-testid="dry-run">
            <p className="font-medium">{t("automation.dryRunCount", { count: dry.count })}</p>
            {dry.note ? <p className="text-sm text-muted">{dry.note}</p> : null}
            <ul className="text-sm">
              {dry.items.map((x) => (
                <li key={x.id}>
                  {x.number} · {x.title} · {x.status}
                </li>
              ))}
            </ul>
          </section>
        ) : null}
      </form>
    </Card>
  );
}
