import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { Link } from "react-router";
import { api, ok } from "../api/client";
import type { Level, Ticket, TicketStatus } from "../api/types";
import { allPages, useAdminTeams } from "../admin/api";
import { FailureAlert } from "../admin/forms";
import { Alert, Button, Card, PageHeader, Select, Spinner } from "../components/ui";
import { LEVELS, LEVEL_LABELS, formatDateTime, statusLabel } from "../lib/format";
import type { TicketListQuery } from "../tickets/queries";
import { ACTIVE_STATUSES, RESOLVED_STATUSES } from "../lib/domain";
import { BarTable, ColumnChart, type BarRow, type BarTone } from "./charts";
import { Compliance } from "./Compliance";
import { Figure, Loadable, Panel, REFRESH_MS, TimesTable, count } from "./panels";
import {
  buckets,
  countBy,
  countInBuckets,
  durationStats,
  firstResponseTimes,
  formatDuration,
  periodStart,
  resolutionTimes,
} from "./metrics";

const OPEN = [...ACTIVE_STATUSES];
const PERIODS = [7, 30, 90] as const;
/** Each list is read page by page up to this many tickets; past it the figures say so. */
const CAP = 2000;
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
