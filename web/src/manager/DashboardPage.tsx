import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState, type ReactNode } from "react";
import { Link } from "react-router";
import { api, ok } from "../api/client";
import type { Level, Ticket, TicketStatus } from "../api/types";
import { allPages, useAdminTeams } from "../admin/api";
import { FailureAlert, ScrollArea } from "../admin/forms";
import type { ComplianceGroup } from "../admin/types";
import { Alert, Button, Card, Field, PageHeader, Select, Spinner } from "../components/ui";
import { LEVELS, LEVEL_LABELS, SLA_TARGET_LABELS, formatDateTime, statusLabel, type SlaTargetName } from "../lib/format";
import type { TicketListQuery } from "../tickets/queries";
import { ACTIVE_STATUSES, RESOLVED_STATUSES } from "../lib/domain";
import { BarTable, ColumnChart, Meter, type BarRow, type BarTone } from "./charts";
import {
  buckets,
  complianceByGroup,
  complianceByTarget,
  countBy,
  countInBuckets,
  durationStats,
  firstResponseTimes,
  formatDuration,
  periodStart,
  resolutionTimes,
  type DurationStats,
} from "./metrics";

const OPEN = [...ACTIVE_STATUSES];
const PERIODS = [7, 30, 90] as const;
/** Each list is read page by page up to this many tickets; past it the figures say so. */
const CAP = 2000;
const REFRESH_MS = 60_000;
const TARGETS = (Object.entries(SLA_TARGET_LABELS) as [SlaTargetName, string][]);
const STATUS_TONES: Record<string, BarTone> = { new: "accent", open: "accent", in_progress: "accent", pending: "warning" };
const PRIORITY_TONES: Record<Level, BarTone> = { low: "neutral", medium: "accent", high: "warning", critical: "danger" };

/** Every ticket of a list query, up to the cap (the API pages by 100). */
function useAllTickets(name: string, query: TicketListQuery, enabled = true) {
  return useQuery({
    queryKey: ["dashboard", name, query],
    enabled,
    refetchInterval: REFRESH_MS,
    queryFn: ({ signal }) =>
      allPages<Ticket>((cursor) => ok(api.GET("/v1/tickets", { params: { query: { ...query, limit: 100, cursor } }, signal })), CAP),
  });
}

function Figure({ label, value, detail, testId }: { label: string; value: ReactNode; detail?: ReactNode; testId: string }) {
  return (
    <div className="rounded-lg border border-border bg-surface p-4 shadow-card">
      <dt className="text-fg-muted">{label}</dt>
      <dd className="mt-1 text-2xl font-semibold tabular-nums" data-testid={testId}>
        {value}
      </dd>
      {detail ? <dd className="mt-1 text-fg-muted">{detail}</dd> : null}
    </div>
  );
}

function Panel({ title, children, id }: { title: string; children: ReactNode; id: string }) {
  return (
    <Card aria-labelledby={id} className="min-w-0">
      <h2 id={id} className="mb-3 font-semibold">
        {title}
      </h2>
      {children}
    </Card>
  );
}

function Loadable<T>({ query, children }: { query: { isPending: boolean; isError: boolean; error: unknown; data?: T }; children: (data: T) => ReactNode }) {
  if (query.isPending) return <Spinner label="Loading" />;
  if (query.isError) return <FailureAlert error={query.error} />;
  return <>{query.data === undefined ? null : children(query.data)}</>;
}

function count(list: { items: unknown[]; truncated: boolean } | undefined): string {
  if (!list) return "…";
  return `${list.items.length}${list.truncated ? "+" : ""}`;
}

function TimesTable({ rows }: { rows: { label: string; first: DurationStats; resolution: DurationStats }[] }) {
  return (
    <ScrollArea label="Times by priority">
      <table className="w-full text-left" data-testid="times-table">
        <caption className="sr-only">First response and resolution times by priority</caption>
        <thead className="border-b border-border text-fg-muted">
          <tr>
            <th scope="col" className="px-2 py-2 font-medium">Priority</th>
            <th scope="col" className="px-2 py-2 text-right font-medium">First response, median</th>
            <th scope="col" className="px-2 py-2 text-right font-medium">90th percentile</th>
            <th scope="col" className="px-2 py-2 text-right font-medium">Resolution, median</th>
            <th scope="col" className="px-2 py-2 text-right font-medium">90th percentile</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.label} className="border-b border-border last:border-0">
              <th scope="row" className="px-2 py-2 font-normal">
                {r.label}
              </th>
              <td className="px-2 py-2 text-right tabular-nums">
                {formatDuration(r.first.median)} <span className="text-fg-muted">({r.first.count})</span>
              </td>
              <td className="px-2 py-2 text-right tabular-nums">{formatDuration(r.first.p90)}</td>
              <td className="px-2 py-2 text-right tabular-nums">
                {formatDuration(r.resolution.median)} <span className="text-fg-muted">({r.resolution.count})</span>
              </td>
              <td className="px-2 py-2 text-right tabular-nums">{formatDuration(r.resolution.p90)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollArea>
  );
}

function Compliance({ since, until }: { since: string; until: string }) {
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
      <div className="mb-3 max-w-xs">
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

export default function DashboardPage() {
  const client = useQueryClient();
  const [days, setDays] = useState<(typeof PERIODS)[number]>(7);
  const [now, setNow] = useState(() => Date.now());
  const since = useMemo(() => periodStart(now, days), [now, days]);
  const sinceIso = new Date(since).toISOString();
  const untilIso = new Date(now + 60_000).toISOString();
  const teams = useAdminTeams();

  const backlog = useAllTickets("backlog", { status: OPEN, sort: "-created_at" });
  const created = useAllTickets("created", { created_after: sinceIso, sort: "-created_at" });
  const resolvedRaw = useAllTickets("resolved", { status: [...RESOLVED_STATUSES], updated_after: sinceIso, sort: "-updated_at" });
  const breached = useAllTickets("breached", { sla: ["breached"], status: OPEN });
  const atRisk = useAllTickets("at-risk", { sla: ["at_risk"], status: OPEN });

  const resolved = useMemo(() => {
    if (!resolvedRaw.data) return undefined;
    const items = resolvedRaw.data.items.filter((t) => t.resolved_at && new Date(t.resolved_at).getTime() >= since);
    return { items, truncated: resolvedRaw.data.truncated };
  }, [resolvedRaw.data, since]);

  const teamName = (id: string) => (id === "none" ? "No team" : (teams.data?.find((t) => t.id === id)?.name ?? "Unknown team"));
  const open = backlog.data?.items ?? [];
  const unassigned = open.filter((t) => !t.assignee_id).length;
  const series = buckets(since, now);
  const createdSeries = countInBuckets((created.data?.items ?? []).map((t) => t.created_at), series);
  const resolvedSeries = countInBuckets((resolved?.items ?? []).map((t) => t.resolved_at), series);
  const firstStats = durationStats(firstResponseTimes(created.data?.items ?? []));
  const awaiting = (created.data?.items ?? []).filter((t) => !t.first_response_at && OPEN.includes(t.status)).length;
  const resolutionStats = durationStats(resolutionTimes(resolved?.items ?? []));
  const timesByPriority = LEVELS.map((level) => ({
    label: LEVEL_LABELS[level],
    first: durationStats(firstResponseTimes((created.data?.items ?? []).filter((t) => t.priority === level))),
    resolution: durationStats(resolutionTimes((resolved?.items ?? []).filter((t) => t.priority === level))),
  }));
  const truncated = [backlog, created, resolvedRaw, breached, atRisk].some((q) => q.data?.truncated);
  const fetching = [backlog, created, resolvedRaw, breached, atRisk].some((q) => q.isFetching);

  function refresh() {
    setNow(Date.now());
    void client.invalidateQueries({ queryKey: ["dashboard"] });
  }

  const periodLabel = days === 7 ? "the last 7 days" : `the last ${days} days`;
  return (
    <>
      <PageHeader
        title="Dashboard"
        actions={
          <div className="flex flex-wrap items-end gap-2">
            <div className="flex items-center gap-2">
              <label htmlFor="dashboard-period" className="text-fg-muted">
                Period
              </label>
              <Select id="dashboard-period" className="w-auto" value={days} onChange={(e) => setDays(Number(e.target.value) as (typeof PERIODS)[number])}>
                {PERIODS.map((d) => (
                  <option key={d} value={d}>
                    Last {d} days
                  </option>
                ))}
              </Select>
            </div>
            <Button onClick={refresh} busy={fetching}>
              Refresh
            </Button>
          </div>
        }
      >
        Since {formatDateTime(sinceIso)} · updated every minute
      </PageHeader>
      {truncated ? (
        <div className="mb-4">
          <Alert tone="info">Some figures count only the first {CAP} tickets of a list (marked +).</Alert>
        </div>
      ) : null}

      <dl className="mb-6 grid gap-3 sm:grid-cols-2 lg:grid-cols-4" aria-label="Key figures">
        <Figure label="Open backlog" value={count(backlog.data)} detail={backlog.data ? `${unassigned} unassigned` : undefined} testId="figure-backlog" />
        <Figure label={`Opened in ${periodLabel}`} value={count(created.data)} detail={created.data ? `${awaiting} awaiting a first response` : undefined} testId="figure-created" />
        <Figure label={`Resolved in ${periodLabel}`} value={count(resolved)} testId="figure-resolved" />
        <Figure
          label="SLA breached (open)"
          value={count(breached.data)}
          detail={atRisk.data ? `${count(atRisk.data)} at risk` : undefined}
          testId="figure-breached"
        />
        <Figure
          label="First response, median"
          value={formatDuration(firstStats.median)}
          detail={`90th percentile ${formatDuration(firstStats.p90)} · ${firstStats.count} tickets`}
          testId="figure-first-response"
        />
        <Figure
          label="Resolution, median"
          value={formatDuration(resolutionStats.median)}
          detail={`90th percentile ${formatDuration(resolutionStats.p90)} · ${resolutionStats.count} tickets`}
          testId="figure-resolution"
        />
      </dl>

      <div className="grid *:min-w-0 items-start gap-6 lg:grid-cols-2">
        <Card className="min-w-0 lg:col-span-2">
          {created.isPending || resolvedRaw.isPending ? <Spinner label="Loading" /> : null}
          {created.isError ? <FailureAlert error={created.error} /> : null}
          {created.data && resolved ? (
            <ColumnChart
              title={`Opened and resolved, ${days > 31 ? "per week" : "per day"}`}
              labels={series.map((b) => b.label)}
              series={[
                { name: "Opened", tone: "accent", values: createdSeries },
                { name: "Resolved", tone: "success", values: resolvedSeries },
              ]}
              summary={`In ${periodLabel}, ${created.data.items.length} tickets were opened and ${resolved.items.length} resolved; the busiest ${days > 31 ? "week" : "day"} had ${Math.max(0, ...createdSeries)} opened.`}
            />
          ) : null}
        </Card>

        <Panel title="Backlog by status" id="by-status-heading">
          <Loadable query={backlog}>
            {(data) => (
              <BarTable
                caption="Open tickets by status"
                testId="backlog-by-status"
                rows={countBy(data.items, (t) => t.status, OPEN).map(
                  (r): BarRow => ({ label: statusLabel(r.key as TicketStatus, true), value: r.count, tone: STATUS_TONES[r.key] ?? "accent" }),
                )}
              />
            )}
          </Loadable>
        </Panel>

        <Panel title="Backlog by priority" id="by-priority-heading">
          <Loadable query={backlog}>
            {(data) => (
              <BarTable
                caption="Open tickets by priority"
                testId="backlog-by-priority"
                rows={countBy(data.items, (t) => t.priority, [...LEVELS].reverse()).map(
                  (r): BarRow => ({ label: LEVEL_LABELS[r.key as Level] ?? r.key, value: r.count, tone: PRIORITY_TONES[r.key as Level] }),
                )}
              />
            )}
          </Loadable>
        </Panel>

        <Panel title="Backlog by team" id="by-team-heading">
          <Loadable query={backlog}>
            {(data) =>
              data.items.length ? (
                <BarTable
                  caption="Open tickets by team"
                  testId="backlog-by-team"
                  rows={countBy(data.items, (t) => t.team_id ?? "none").map((r): BarRow => ({ label: teamName(r.key), value: r.count }))}
                />
              ) : (
                <p className="text-fg-muted">No open tickets.</p>
              )
            }
          </Loadable>
        </Panel>

        <Panel title="Response and resolution times" id="times-heading">
          <p className="mb-3 text-fg-muted">
            Wall-clock time. First response: tickets opened in the period that got one. Resolution: tickets resolved in the
            period. In brackets, how many tickets each figure is made of.
          </p>
          <TimesTable rows={timesByPriority} />
        </Panel>

        <div className="min-w-0 lg:col-span-2">
          <Compliance since={sinceIso} until={untilIso} />
        </div>
      </div>
      <p className="mt-6 text-fg-muted">
        Breached and at-risk tickets are in the{" "}
        <Link to="/queues/sla" className="text-accent-text underline">
          At risk / breached
        </Link>{" "}
        queue. A dash (—) means there is nothing to measure yet.
      </p>
    </>
  );
}
