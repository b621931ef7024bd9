import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, idempotencyKey, ok } from "../api/client";
import { ApiError } from "../api/problem";
import type { components } from "../api/schema";
import { Alert, Badge, Button, Card, EmptyState, Field, Input, PageHeader, Select, Spinner, Textarea } from "../components/ui";
import { formatRelative } from "../lib/format";
import { Checkbox } from "./fields";

type Rule = components["schemas"]["RulePublic"];
type Run = components["schemas"]["RunPublic"];
type DryRunResult = components["schemas"]["DryRunResult"];
type RuleCreate = components["schemas"]["RuleCreate"];
type Trigger = components["schemas"]["Trigger"];

const KEY = ["admin", "automations"] as const;

export const TRIGGERS = [
  { value: "created", label: "Ticket created" },
  { value: "updated", label: "Ticket updated" },
  { value: "commented", label: "Comment added" },
  { value: "status_changed", label: "Status changed" },
  { value: "assigned", label: "Assigned" },
  { value: "sla_warning", label: "SLA warning" },
  { value: "sla_breached", label: "SLA breached" },
] as const;

/** The condition tests the builder offers (the API takes more: docs/automation.md). */
export const FIELDS = [
  { value: "status", label: "Status", ops: ["is", "is_not"] },
  { value: "priority", label: "Priority", ops: ["is", "is_not", "changed_to"] },
  { value: "title", label: "Title", ops: ["contains", "not_contains", "matches"] },
  { value: "description", label: "Description", ops: ["contains", "not_contains", "matches"] },
  { value: "tags", label: "Tags", ops: ["includes", "excludes"] },
  { value: "hours_since_created", label: "Hours since created", ops: ["gte", "lt"] },
  { value: "hours_since_status_change", label: "Hours since status change", ops: ["gte", "lt"] },
] as const;
const OP_LABEL: Record<string, string> = {
  is: "is",
  is_not: "is not",
  changed_to: "changed to",
  contains: "contains",
  not_contains: "does not contain",
  matches: "matches (regex)",
  includes: "has the tag",
  excludes: "lacks the tag",
  gte: "at least",
  lt: "less than",
};
export const ACTIONS = [
  { value: "add_tags", label: "Add tag" },
  { value: "set_priority", label: "Set priority" },
  { value: "set_status", label: "Set status" },
  { value: "reply", label: "Public reply" },
  { value: "note", label: "Internal note" },
] as const;

interface Test {
  field: string;
  op: string;
  value: string;
  business: boolean;
}
interface Act {
  type: string;
  value: string;
}
export interface RuleForm {
  name: string;
  kind: "event" | "time";
  trigger: string;
  mode: "all" | "any";
  tests: Test[];
  actions: Act[];
}

const EMPTY: RuleForm = { name: "", kind: "event", trigger: "created", mode: "all", tests: [], actions: [{ type: "add_tags", value: "" }] };

function testValue(t: Test): unknown {
  if (t.field === "tags") return [t.value.trim().toLowerCase()];
  if (t.field.startsWith("hours_")) return Number(t.value);
  return t.value;
}

/** The builder's rows as the API's conditions. */
export function conditionsOf(form: RuleForm): Record<string, unknown> {
  return {
    [form.mode]: form.tests.map((t) => ({ field: t.field, op: t.op, value: testValue(t), ...(t.business ? { business: true } : {}) })),
  };
}

export function actionsOf(form: RuleForm): Record<string, unknown>[] {
  return form.actions.map((a) => {
    switch (a.type) {
      case "add_tags":
        return { type: "add_tags", tags: [a.value.trim().toLowerCase()] };
      case "set_priority":
        return { type: "set_field", field: "priority", value: a.value };
      case "set_status":
        return { type: "set_status", status: a.value };
      default:
        return { type: a.type, body: a.value };
    }
  });
}

function problemText(error: unknown): string {
  if (error instanceof ApiError) {
    const fields = Object.entries(error.fieldErrors).map(([k, v]) => `${k}: ${v}`);
    return fields.length ? fields.join("; ") : error.message;
  }
  return error instanceof Error ? error.message : "Something went wrong";
}

function RuleList({ rules, selected, onSelect }: { rules: Rule[]; selected: string | null; onSelect: (id: string) => void }) {
  const client = useQueryClient();
  const refresh = () => client.invalidateQueries({ queryKey: KEY });
  const toggle = useMutation({
    mutationFn: (rule: Rule) =>
      ok(api.PATCH("/v1/automations/{rule_id}", { params: { path: { rule_id: rule.id } }, body: { active: !rule.active, version: rule.version } })),
    onSettled: refresh,
  });
  const move = useMutation({
    mutationFn: ({ kind, ids }: { kind: "event" | "time"; ids: string[] }) => ok(api.POST("/v1/automations/reorder", { body: { kind, ids } })),
    onSettled: refresh,
  });
  if (!rules.length) return <EmptyState title="No rules yet">Create one below: it runs on every matching ticket.</EmptyState>;
  return (
    <ol className="divide-y divide-border" data-testid="automation-rows">
      {rules.map((rule) => {
        const same = rules.filter((r) => r.kind === rule.kind);
        const at = same.findIndex((r) => r.id === rule.id);
        const swap = (by: number) => {
          const ids = same.map((r) => r.id);
          [ids[at], ids[at + by]] = [ids[at + by]!, ids[at]!];
          move.mutate({ kind: rule.kind, ids });
        };
        return (
          <li key={rule.id} className="flex flex-wrap items-center gap-3 py-3">
            <span className="font-medium">
              {at + 1}. {rule.name}
            </span>
            <Badge>{rule.kind === "event" ? "On change" : "Scheduled"}</Badge>
            {(rule.problems ?? []).length ? (
              <Badge tone="danger">
                {(rule.problems ?? []).length} problem{(rule.problems ?? []).length > 1 ? "s" : ""}
              </Badge>
            ) : null}
            <span className="text-sm text-muted">{rule.last_run_at ? `Last run ${formatRelative(rule.last_run_at)}` : "Never run"}</span>
            <span className="ml-auto flex flex-wrap items-center gap-2">
              <Checkbox label={`Active: ${rule.name}`} checked={rule.active} onChange={() => toggle.mutate(rule)} />
              <Button size="sm" disabled={at === 0 || move.isPending} onClick={() => swap(-1)} aria-label={`Move ${rule.name} up`}>
                Up
              </Button>
              <Button size="sm" disabled={at === same.length - 1 || move.isPending} onClick={() => swap(1)} aria-label={`Move ${rule.name} down`}>
                Down
              </Button>
              <Button size="sm" onClick={() => onSelect(rule.id)} aria-pressed={selected === rule.id}>
                Run log
              </Button>
            </span>
            {(rule.problems ?? []).length ? (
              <ul className="w-full text-sm text-danger-text">
                {(rule.problems ?? []).map((p) => (
                  <li key={p.field}>
                    {p.field}: {p.detail}
                  </li>
                ))}
              </ul>
            ) : null}
          </li>
        );
      })}
    </ol>
  );
}

function RunLog({ rule }: { rule: Rule }) {
  const runs = useQuery({
    queryKey: [...KEY, rule.id, "runs"],
    queryFn: ({ signal }) => ok(api.GET("/v1/automations/{rule_id}/runs", { params: { path: { rule_id: rule.id }, query: { limit: 50 } }, signal })),
  });
  return (
    <Card aria-labelledby="run-log-title">
      <h2 id="run-log-title" className="text-lg font-semibold">
        Run log: {rule.name}
      </h2>
      {runs.isPending ? <Spinner /> : null}
      {runs.data && !runs.data.items.length ? <p className="text-muted">No runs yet.</p> : null}
      <ul className="mt-2 divide-y divide-border" data-testid="run-rows">
        {runs.data?.items.map((run: Run) => (
          <li key={run.id} className="py-2 text-sm">
            <Badge tone={run.status === "fired" ? "success" : run.status === "error" ? "danger" : "warning"}>{run.status}</Badge>{" "}
            {run.trigger} · {formatRelative(run.at)}
            {run.error ? <span className="text-danger-text"> · {run.error}</span> : null}
            {run.outcomes.length ? <span> · {run.outcomes.map((o) => `${String(o.type)} ${String(o.status)}`).join(", ")}</span> : null}
          </li>
        ))}
      </ul>
    </Card>
  );
}

function Editor() {
  const client = useQueryClient();
  const [form, setForm] = useState<RuleForm>(EMPTY);
  const [key, setKey] = useState(idempotencyKey);
  const [dry, setDry] = useState<DryRunResult | null>(null);
  const set = <K extends keyof RuleForm>(k: K, v: RuleForm[K]) => setForm((f) => ({ ...f, [k]: v }));
  const create = useMutation({
    mutationFn: () =>
      ok(
        api.POST("/v1/automations", {
          params: { header: { "Idempotency-Key": key } },
          body: {
            name: form.name,
            description: "",
            kind: form.kind,
            active: true,
            loop_limit: 1,
            triggers: form.kind === "event" ? [{ event: form.trigger as Trigger["event"] }] : [],
            conditions: conditionsOf(form),
            actions: actionsOf(form) as RuleCreate["actions"],
          },
        }),
      ),
    onSuccess: () => {
      setForm(EMPTY);
      setKey(idempotencyKey());
      setDry(null);
      void client.invalidateQueries({ queryKey: KEY });
    },
  });
  const dryRun = useMutation({
    mutationFn: () => ok(api.POST("/v1/automations/dry-run", { body: { kind: form.kind, conditions: conditionsOf(form), limit: 10 } })),
    onSuccess: setDry,
  });
  const setTest = (i: number, patch: Partial<Test>) => set("tests", form.tests.map((t, n) => (n === i ? { ...t, ...patch } : t)));
  const setAct = (i: number, patch: Partial<Act>) => set("actions", form.actions.map((a, n) => (n === i ? { ...a, ...patch } : a)));
  return (
    <Card aria-labelledby="new-rule-title">
      <h2 id="new-rule-title" className="text-lg font-semibold">
        New rule
      </h2>
      <form
        className="mt-3 space-y-4"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate();
        }}
      >
        <Field label="Name" required>
          {(p) => <Input {...p} value={form.name} maxLength={200} onChange={(e) => set("name", e.target.value)} />}
        </Field>
        <Field label="Runs">
          {(p) => (
            <Select {...p} value={form.kind} onChange={(e) => set("kind", e.target.value as RuleForm["kind"])}>
              <option value="event">When a ticket changes</option>
              <option value="time">On a schedule (every 5 minutes)</option>
            </Select>
          )}
        </Field>
        {form.kind === "event" ? (
          <Field label="Trigger">
            {(p) => (
              <Select {...p} value={form.trigger} onChange={(e) => set("trigger", e.target.value)}>
                {TRIGGERS.map((t) => (
                  <option key={t.value} value={t.value}>
                    {t.label}
                  </option>
                ))}
              </Select>
            )}
          </Field>
        ) : null}
        <fieldset className="space-y-2">
          <legend className="font-medium">Conditions</legend>
          <Field label="Match">
            {(p) => (
              <Select {...p} value={form.mode} onChange={(e) => set("mode", e.target.value as RuleForm["mode"])}>
                <option value="all">All of these</option>
                <option value="any">Any of these</option>
              </Select>
            )}
          </Field>
          {form.tests.map((t, i) => {
            const spec = FIELDS.find((f) => f.value === t.field) ?? FIELDS[0];
            return (
              <div key={i} className="flex flex-wrap items-end gap-2" data-testid="condition-row">
                <Field label={`Condition ${i + 1} field`}>
                  {(p) => (
                    <Select {...p} value={t.field} onChange={(e) => setTest(i, { field: e.target.value, op: FIELDS.find((f) => f.value === e.target.value)!.ops[0], business: false })}>
                      {FIELDS.map((f) => (
                        <option key={f.value} value={f.value}>
                          {f.label}
                        </option>
                      ))}
                    </Select>
                  )}
                </Field>
                <Field label={`Condition ${i + 1} test`}>
                  {(p) => (
                    <Select {...p} value={t.op} onChange={(e) => setTest(i, { op: e.target.value })}>
                      {spec.ops.map((op) => (
                        <option key={op} value={op}>
                          {OP_LABEL[op]}
                        </option>
                      ))}
                    </Select>
                  )}
                </Field>
                <Field label={`Condition ${i + 1} value`}>{(p) => <Input {...p} value={t.value} onChange={(e) => setTest(i, { value: e.target.value })} />}</Field>
                {t.field.startsWith("hours_") ? <Checkbox label={`Condition ${i + 1}: business hours`} checked={t.business} onChange={(v) => setTest(i, { business: v })} /> : null}
                <Button size="sm" onClick={() => set("tests", form.tests.filter((_, n) => n !== i))}>
                  Remove condition {i + 1}
                </Button>
              </div>
            );
          })}
          <Button size="sm" onClick={() => set("tests", [...form.tests, { field: "title", op: "contains", value: "", business: false }])}>
            Add condition
          </Button>
        </fieldset>
        <fieldset className="space-y-2">
          <legend className="font-medium">Actions</legend>
          {form.actions.map((a, i) => (
            <div key={i} className="flex flex-wrap items-end gap-2" data-testid="action-row">
              <Field label={`Action ${i + 1}`}>
                {(p) => (
                  <Select {...p} value={a.type} onChange={(e) => setAct(i, { type: e.target.value })}>
                    {ACTIONS.map((x) => (
                      <option key={x.value} value={x.value}>
                        {x.label}
                      </option>
                    ))}
                  </Select>
                )}
              </Field>
              {a.type === "reply" || a.type === "note" ? (
                <Field label={`Action ${i + 1} text`} description="Placeholders such as {{ticket.number}} and {{requester.first_name}}.">
                  {(p) => <Textarea {...p} rows={2} value={a.value} onChange={(e) => setAct(i, { value: e.target.value })} />}
                </Field>
              ) : (
                <Field label={`Action ${i + 1} value`}>{(p) => <Input {...p} value={a.value} onChange={(e) => setAct(i, { value: e.target.value })} />}</Field>
              )}
              <Button size="sm" disabled={form.actions.length === 1} onClick={() => set("actions", form.actions.filter((_, n) => n !== i))}>
                Remove action {i + 1}
              </Button>
            </div>
          ))}
          <Button size="sm" onClick={() => set("actions", [...form.actions, { type: "add_tags", value: "" }])}>
            Add action
          </Button>
        </fieldset>
        {create.error ? (
          <Alert tone="danger" title="The rule was not saved">
            {problemText(create.error)}
          </Alert>
        ) : null}
        {dryRun.error ? (
          <Alert tone="danger" title="The dry run failed">
            {problemText(dryRun.error)}
          </Alert>
        ) : null}
        <div className="flex flex-wrap gap-2">
          <Button type="submit" variant="primary" disabled={create.isPending}>
            Create rule
          </Button>
          <Button onClick={() => dryRun.mutate()} disabled={dryRun.isPending}>
            Dry run
          </Button>
        </div>
        {dry ? (
          <section aria-label="Dry run result" data-testid="dry-run">
            <p className="font-medium">
              {dry.count} ticket{dry.count === 1 ? "" : "s"} match now
            </p>
            {dry.note ? <p className="text-sm text-muted">{dry.note}</p> : null}
            <ul className="text-sm">
              {dry.items.map((t) => (
                <li key={t.id}>
                  {t.number} · {t.title} · {t.status}
                </li>
              ))}
            </ul>
          </section>
        ) : null}
      </form>
    </Card>
  );
}

export default function AutomationsPage() {
  const rules = useQuery({ queryKey: KEY, queryFn: ({ signal }) => ok(api.GET("/v1/automations", { signal })) });
  const [selected, setSelected] = useState<string | null>(null);
  const chosen = rules.data?.find((r) => r.id === selected) ?? null;
  return (
    <div className="space-y-6">
      <PageHeader title="Automation" />
      <Card aria-labelledby="rules-title">
        <h2 id="rules-title" className="text-lg font-semibold">
          Rules, in evaluation order
        </h2>
        {rules.isPending ? <Spinner /> : null}
        {rules.error ? <Alert tone="danger" title="Rules could not be loaded">{problemText(rules.error)}</Alert> : null}
        {rules.data ? <RuleList rules={rules.data} selected={selected} onSelect={setSelected} /> : null}
      </Card>
      {chosen ? <RunLog rule={chosen} /> : null}
      <Editor />
    </div>
  );
}
