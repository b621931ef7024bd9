/**
 * The manager's dashboard, from GET /v1/reports/dashboard (the server counts, in the
 * manager's time zone, with the reports' definitions): tiles that open the tickets they
 * count, created vs resolved over the last 14 days, the backlog by priority and by team.
 * Live: ticket events on the WebSocket refetch it (debounced); new figures are announced
 * politely, at most every 30 s.
 */
import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Link } from "react-router";
import { FailureAlert } from "../admin/forms";
import { Button, Card, PageHeader, Spinner } from "../components/ui";
import { useFallbackPoll, useLiveEvents, useLiveTeams, useLiveTriage } from "../live/LiveProvider";
import { LEVEL_LABELS, formatDateTime } from "../lib/format";
import type { Level } from "../api/types";
import { useTeams } from "../tickets/queries";
import { reportKeys, useDashboard } from "../reports/api";
import { bucketLabel, formatValue } from "../reports/format";
import { REFETCH_AGAIN_MS, debouncer, describeChanges, shouldAnnounce } from "../reports/live";
import { asUnit, type Dashboard, type DashboardSlice } from "../reports/types";
import { browserTimeZone, drilldownHref } from "../reports/url";
import { BarTable, ColumnChart, type BarRow, type BarTone } from "./charts";
import { Figure, Panel, REFRESH_MS } from "./panels";
import { t } from "../i18n/manager";

const PRIORITY_TONES: Record<string, BarTone> = { low: "neutral", medium: "accent", high: "warning", critical: "danger" };
const TILE_TONES: Record<string, string> = { sla_breached: "text-danger-text", sla_at_risk: "text-warning-text" };

function sliceRows(slices: DashboardSlice[], tone?: (s: DashboardSlice) => BarTone | undefined, label?: (s: DashboardSlice) => string): BarRow[] {
  return slices.map((s) => {
    const text = label?.(s) ?? s.label;
    return {
      label: s.drilldown ? (
        <Link to={drilldownHref(s.drilldown)} className="text-accent-text underline">
          {text}
        </Link>
      ) : (
        text
      ),
      value: s.value,
      tone: tone?.(s),
    };
  });
}

/** Refetch on ticket events (debounced); announce changed figures politely and rarely. */
function useLiveDashboard(tz: string, data: Dashboard | undefined): string {
  const client = useQueryClient();
  const teams = useTeams();
  // A manager hears every team's channel and the triage queue (tickets without a team), as
  // the "All" queue does: that is where new and changed tickets are announced.
  useLiveTeams((teams.data ?? []).filter((item) => item.active !== false).map((item) => item.id));
  useLiveTriage(true);
  // The push and the reports consumer's update of the figures come from the same event
  // through separate queues: the push can come first, so the dashboard asks again later.
  const refetch = useMemo(() => {
    const again = REFETCH_AGAIN_MS.map((ms) => debouncer(() => void client.invalidateQueries({ queryKey: reportKeys.dashboard(tz) }), ms));
    return { trigger: () => again.forEach((d) => d.trigger()), cancel: () => again.forEach((d) => d.cancel()) };
  }, [client, tz]);
  useEffect(() => () => refetch.cancel(), [refetch]);
  useLiveEvents(
    useCallback(
      (event: string) => {
        if (event.startsWith("ticket.") || event.startsWith("comment.") || event.startsWith("sla.") || event.startsWith("csat.")) refetch.trigger();
      },
      [refetch],
    ),
  );
  const previous = useRef<Dashboard | undefined>(undefined);
  const lastAt = useRef<number | null>(null);
  const [message, setMessage] = useState("");
  useEffect(() => {
    if (!data) return;
    const said = describeChanges(previous.current, data);
    previous.current = data;
    const now = Date.now();
    if (shouldAnnounce(said, lastAt.current, now)) {
      lastAt.current = now;
      setMessage(said ?? "");
    }
  }, [data]);
  return message;
}

export default function DashboardPage() {
  const [tz] = useState(browserTimeZone);
  // Pushes reach a manager for new and reassigned tickets (team channels, triage); a status
  // change reaches only the ticket's subscribers, so a slow poll catches resolutions too.
  const poll = useFallbackPoll(15_000) || REFRESH_MS;
  const dashboard = useDashboard(tz, poll);
  const client = useQueryClient();
  const teams = useTeams();
  const data = dashboard.data;
  const announcement = useLiveDashboard(tz, data);
  const days = data?.created_vs_resolved ?? [];
  const created = days.reduce((sum, d) => sum + d.created, 0);
  const resolved = days.reduce((sum, d) => sum + d.resolved, 0);
  const busiest = days.reduce<(typeof days)[number] | null>((top, d) => (!top || d.created > top.created ? d : top), null);
  const teamName = (s: DashboardSlice) => (s.id ? (teams.data?.find((item) => item.id === s.id)?.name ?? s.label) : s.label);

  return (
    <>
      <PageHeader
        title={t("manager.dashboard.dashboard")}
        actions={
          <div className="flex flex-wrap items-end gap-2">
            <Link to="/reports" className="inline-flex h-10 items-center rounded-md border border-border-strong px-4 font-medium hover:bg-surface-muted">
              {t("manager.dashboard.reports")}
            </Link>
            <Button onClick={() => void client.invalidateQueries({ queryKey: reportKeys.dashboard(tz) })} busy={dashboard.isFetching}>
              {t("manager.dashboard.refresh")}
            </Button>
          </div>
        }
      >
        {data ? t("manager.dashboard.updatedWhenTzLive", { when: formatDateTime(data.generated_at), tz: data.tz }) : t("manager.dashboard.liveFigures")}
      </PageHeader>
      <p className="sr-only" aria-live="polite" data-testid="dashboard-announcement">
        {announcement}
      </p>
      {dashboard.isPending ? <Spinner label={t("manager.dashboard.loading")} /> : null}
      {dashboard.isError ? <FailureAlert error={dashboard.error} /> : null}
      {data ? (
        <>
          <dl className="mb-6 grid gap-3 sm:grid-cols-2 lg:grid-cols-4" aria-label={t("manager.dashboard.keyFigures")}>
            {data.tiles.map((tile) => {
              const text = formatValue(asUnit(tile.unit), tile.value);
              return (
                <Figure
                  key={tile.key}
                  label={tile.label}
                  testId={`tile-${tile.key}`}
                  value={
                    tile.drilldown ? (
                      <Link to={drilldownHref(tile.drilldown)} className={`${TILE_TONES[tile.key] ?? "text-fg"} decoration-2 underline-offset-4 hover:underline`} aria-label={t("manager.dashboard.labelTextShowThe", { label: tile.label, text })}>
                        {text}
                      </Link>
                    ) : (
                      text
                    )
                  }
                />
              );
            })}
          </dl>
          <div className="grid *:min-w-0 items-start gap-6 lg:grid-cols-2">
            <Card className="min-w-0 lg:col-span-2">
              <ColumnChart
                title={t("manager.dashboard.createdAndResolvedThe")}
                labels={days.map((d) => bucketLabel(d.day, "day"))}
                series={[
                  { name: t("manager.dashboard.seriesCreated"), tone: "accent", values: days.map((d) => d.created) },
                  { name: t("manager.dashboard.seriesResolved"), tone: "success", values: days.map((d) => d.resolved) },
                ]}
                summary={t("manager.dashboard.inTheLast14", { created, resolved, value: busiest && busiest.created ? `; the busiest day, ${bucketLabel(busiest.day, "day")}, had ${busiest.created} created` : "" })}
              />
            </Card>
            <Panel title={t("manager.dashboard.backlogByPriority")} id="by-priority-heading">
              <BarTable
                caption={t("manager.dashboard.openTicketsByPriority")}
                testId="backlog-by-priority"
                rows={sliceRows(data.backlog_by_priority, (s) => PRIORITY_TONES[s.id ?? ""], (s) => LEVEL_LABELS[s.id as Level] ?? s.label)}
              />
            </Panel>
            <Panel title={t("manager.dashboard.backlogByTeam")} id="by-team-heading">
              {data.backlog_by_team.length ? (
                <BarTable caption={t("manager.dashboard.openTicketsByTeam")} testId="backlog-by-team" rows={sliceRows(data.backlog_by_team, undefined, teamName)} />
              ) : (
                <p className="text-fg-muted">{t("manager.dashboard.noOpenTickets")}</p>
              )}
            </Panel>
          </div>
          <p className="mt-6 text-fg-muted">
            {t("manager.dashboard.eachFigureOpensThe")}{" "}
            <Link to="/reports" className="text-accent-text underline">
              {t("manager.dashboard.reports2")}
            </Link>
            {t("manager.dashboard.aDashMeansThere")}
          </p>
        </>
      ) : null}
    </>
  );
}
