import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api, ok } from "../api/client";
import type { Level } from "../api/types";
import { ScrollArea } from "../admin/fields";
import { FailureAlert } from "../admin/forms";
import type { ComplianceGroup } from "../admin/types";
import { ExportButton } from "../components/ExportButton";
import { Field, Select, Spinner } from "../components/ui";
import { LEVEL_LABELS, SLA_TARGET_LABELS, type SlaTargetName } from "../lib/format";
import { Meter } from "./charts";
import { complianceByGroup, complianceByTarget } from "./metrics";
import { Panel, REFRESH_MS } from "./panels";

const TARGETS = Object.entries(SLA_TARGET_LABELS) as [SlaTargetName, string][];

/** SLA compliance over the period: met and late per target, split by priority, team or policy. */
export function Compliance({ since, until }: { since: string; until: string }) {
  const [group, setGroup] = useState<ComplianceGroup>("priority");
  const report = useQuery({
    queryKey: ["dashboard", "compliance", group, since, until],
    refetchInterval: REFRESH_MS,
    queryFn: ({ signal }) => ok(api.GET("/v1/reports/sla-compliance", { params: { query: { group_by: group, since, until } }, signal })),
  });
  const rows = report.data?.rows ?? [];
  const totals = complianceByTarget(rows);
  const groups = complianceByGroup(rows);
  const shown = TARGETS.filter(([t]) => totals[t].met + totals[t].breached > 0);
  return (
    <Panel title="SLA compliance" id="compliance-heading">
      <p className="mb-3 text-fg-muted">Targets that finished in the period: met on time, or late.</p>
      <dl className="mb-4 grid gap-3 sm:grid-cols-3">
        {TARGETS.map(([target, label]) => (
          <div key={target}>
            <dt className="text-fg-muted">{label}</dt>
            <dd data-testid={`compliance-${target}`}>
              <Meter value={totals[target].rate} />
              <span className="text-fg-muted">
                {totals[target].met} met · {totals[target].breached} late
              </span>
            </dd>
          </div>
        ))}
      </dl>
      <div className="mb-3 flex flex-wrap items-end gap-3">
        <div className="max-w-xs">
        <Field label="Split by">
          {(p) => (
            <Select {...p} value={group} onChange={(e) => setGroup(e.target.value as ComplianceGroup)}>
              <option value="priority">Priority</option>
              <option value="team">Team</option>
              <option value="policy">SLA policy</option>
            </Select>
          )}
        </Field>
        </div>
        <ExportButton path="/v1/reports/sla-compliance" query={{ group_by: group, since, until }} />
      </div>
      {report.isPending ? <Spinner label="Loading the report" /> : null}
      {report.isError ? <FailureAlert error={report.error} /> : null}
      {report.isSuccess && !groups.length ? <p className="text-fg-muted">No SLA target finished in this period.</p> : null}
      {groups.length ? (
        <ScrollArea label="Compliance table">
          <table className="w-full text-left" data-testid="compliance-table">
            <caption className="sr-only">SLA compliance by {group}</caption>
            <thead className="border-b border-border text-fg-muted">
              <tr>
                <th scope="col" className="px-2 py-2 font-medium">{group === "policy" ? "Policy" : group === "team" ? "Team" : "Priority"}</th>
                {shown.map(([t, label]) => (
                  <th key={t} scope="col" className="px-2 py-2 font-medium">
                    {label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {groups.map((g) => (
                <tr key={g.group} className="border-b border-border last:border-0">
                  <th scope="row" className="px-2 py-2 font-normal">
                    {group === "priority" ? (LEVEL_LABELS[g.group as Level] ?? g.group) : g.group}
                  </th>
                  {shown.map(([t]) => {
                    const c = g.targets[t];
                    return (
                      <td key={t} className="px-2 py-2">
                        {c ? (
                          <>
                            <Meter value={c.rate} />
                            <span className="text-fg-muted">
                              {c.met} met · {c.breached} late
                            </span>
                          </>
                        ) : (
                          <span className="text-fg-muted">—</span>
                        )}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollArea>
      ) : null}
    </Panel>
  );
}
