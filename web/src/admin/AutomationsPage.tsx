import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, ok } from "../api/client";
import { ApiError } from "../api/problem";
import type { components } from "../api/schema";
import { Alert, Badge, Button, Card, EmptyState, PageHeader, Spinner } from "../components/ui";
import { t } from "../i18n";
import { formatRelative } from "../lib/format";
import { Checkbox } from "./fields";
import { KEY, RuleEditor } from "./RuleEditor";

type Rule = components["schemas"]["RulePublic"];
type Run = components["schemas"]["RunPublic"];

function problemText(error: unknown): string {
  if (error instanceof ApiError) {
    const fields = Object.entries(error.fieldErrors).map(([k, v]) => `${k}: ${v}`);
    return fields.length ? fields.join("; ") : error.message;
  }
  return error instanceof Error ? error.message : t("automation.somethingWrong");
}

function RuleList({ rules, selected, onSelect, onEdit }: { rules: Rule[]; selected: string | null; onSelect: (id: string) => void; onEdit: (id: string) => void }) {
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
  if (!rules.length) return <EmptyState title={t("automation.none")}>{t("automation.noneHelp")}</EmptyState>;
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
            <Badge>{rule.kind === "event" ? t("automation.kind.event") : t("automation.kind.time")}</Badge>
            {(rule.problems ?? []).length ? (
              <Badge tone="danger">{t("automation.problems", { count: (rule.problems ?? []).length })}</Badge>
            ) : null}
            <span className="text-sm text-muted">{rule.last_run_at ? t("automation.lastRun", { when: formatRelative(rule.last_run_at) }) : t("automation.neverRun")}</span>
            <span className="ml-auto flex flex-wrap items-center gap-2">
              <Checkbox label={t("automation.activeToggle", { name: rule.name })} checked={rule.active} onChange={() => toggle.mutate(rule)} />
              <Button size="sm" disabled={at === 0 || move.isPending} onClick={() => swap(-1)} aria-label={t("automation.moveUp", { name: rule.name })}>
                {t("automation.up")}
              </Button>
              <Button size="sm" disabled={at === same.length - 1 || move.isPending} onClick={() => swap(1)} aria-label={t("automation.moveDown", { name: rule.name })}>
                {t("automation.down")}
              </Button>
              <Button size="sm" onClick={() => onEdit(rule.id)} aria-label={t("automation.editRule", { name: rule.name })}>
                {t("automation.edit")}
              </Button>
              <Button size="sm" onClick={() => onSelect(rule.id)} aria-pressed={selected === rule.id}>
                {t("automation.runLog")}
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
        {t("automation.runLogTitle", { name: rule.name })}
      </h2>
      {runs.isPending ? <Spinner /> : null}
      {runs.data && !runs.data.items.length ? <p className="text-muted">{t("automation.noRuns")}</p> : null}
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

export default function AutomationsPage() {
  const rules = useQuery({ queryKey: KEY, queryFn: ({ signal }) => ok(api.GET("/v1/automations", { signal })) });
  const [selected, setSelected] = useState<string | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const chosen = rules.data?.find((r) => r.id === selected) ?? null;
  const edited = rules.data?.find((r) => r.id === editing) ?? null;
  return (
    <div className="space-y-6">
      <PageHeader title={t("automation.title")} />
      <Card aria-labelledby="rules-title">
        <h2 id="rules-title" className="text-lg font-semibold">
          {t("automation.rules")}
        </h2>
        {rules.isPending ? <Spinner /> : null}
        {rules.error ? <Alert tone="danger" title={t("automation.loadFailed")}>{problemText(rules.error)}</Alert> : null}
        {rules.data ? <RuleList rules={rules.data} selected={selected} onSelect={setSelected} onEdit={setEditing} /> : null}
      </Card>
      {chosen ? <RunLog rule={chosen} /> : null}
      <RuleEditor key={edited ? `${edited.id}:${edited.version}` : "new"} editing={edited} onDone={() => setEditing(null)} />
    </div>
  );
}
