/**
 * Reports (managers and admins): the catalogue's reports with a date range in a time zone,
 * an interval, a grouping and filters, all in the address; a chart (lines over buckets,
 * bars per group) with its numbers as a table, every count linked to the tickets it
 * counts, and exports.
 */
import { useMemo, useState } from "react";
import { Link, Navigate, useNavigate, useParams, useSearchParams } from "react-router";
import type { Level } from "../api/types";
import { FailureAlert } from "../admin/forms";
import { ScrollArea } from "../admin/fields";
import { Alert, Card, Field, Input, PageHeader, Select, Spinner } from "../components/ui";
import { STAFF_ROLES } from "../lib/domain";
import { LEVELS, LEVEL_LABELS } from "../lib/format";
import { BarTable, LINE_TONES, LineChart } from "../manager/charts";
import { useCategories, useTeams, useTicketTypes, useUsers } from "../tickets/queries";
import { useCatalogue, useReport } from "./api";
import { ExportMenu } from "./ExportMenu";
import { formatTick, formatValue, rangeLabel } from "./format";
import { measureDrilldown, totalDrilldown } from "./drill";
import { chartMeasure, describeChart, rowLabel, shapeChart } from "./shape";
import type { FilterKey, Measure, ReportInfo, ReportResult } from "./types";
import { GROUPS, INTERVALS, PRESETS, apiQuery, defaultInterval, browserTimeZone, drilldownHref, isTimeZone, presetRange, rangeError, readState, todayIn, writeState, type Preset, type ReportState } from "./url";
import { labelled, t } from "../i18n/reports";

export const CHANNELS = [
  { id: "web", label: t("reports.reports.web") },
  { id: "email", label: t("reports.reports.eMail") },
];

function timeZones(): string[] {
  const supported = (Intl as { supportedValuesOf?: (key: string) => string[] }).supportedValuesOf;
  return supported ? supported("timeZone") : ["UTC"];
}

function useReportState(): [ReportState, (patch: Partial<ReportState>) => void] {
  const [params, setParams] = useSearchParams();
  const state = useMemo(() => readState(params), [params]);
  const update = (patch: Partial<ReportState>) => {
    const next = { ...state, ...patch, filters: { ...state.filters, ...(patch.filters ?? {}) } };
    setParams(writeState(next), { replace: true });
  };
  return [state, update];
}

export default function ReportsPage() {
  const { name } = useParams();
  const catalogue = useCatalogue();
  if (catalogue.isPending) return <Spinner label={t("reports.reports.loading")} />;
  if (catalogue.isError) return <FailureAlert error={catalogue.error} />;
  const first = catalogue.data[0];
  if (!name) return first ? <Navigate to={`/reports/${first.name}`} replace /> : <p>{t("reports.reports.noReports")}</p>;
  const info = catalogue.data.find((r) => r.name === name);
  if (!info) {
    return (
      <Alert tone="warning" title={t("reports.reports.noSuchReport")}>
        <Link to="/reports" className="underline">
          {t("reports.reports.backToTheReports")}
        </Link>
      </Alert>
    );
  }
  return <Report info={info} catalogue={catalogue.data} />;
}

function Report({ info, catalogue }: { info: ReportInfo; catalogue: ReportInfo[] }) {
  const [state, update] = useReportState();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const problem = rangeError(state);
  const query = apiQuery(state, info);
  const report = useReport(info.name, query, problem === null);
  const result = report.data?.report === info.name ? report.data : undefined;

  const subscribe = new URLSearchParams({ report: info.name, ...Object.fromEntries(Object.entries(query).filter(([k]) => k !== "since" && k !== "until")) });
  subscribe.set("range", state.range);

  return (
    <>
      <PageHeader
        title={t("reports.reports.reports")}
        actions={
          <div className="flex flex-wrap gap-2">
            <Link to={`/reports/scheduled?${subscribe.toString()}`} className="inline-flex h-10 items-center rounded-md border border-border-strong px-4 font-medium hover:bg-surface-muted" data-testid="subscribe-link">
              {t("reports.reports.scheduleThisReport")}
            </Link>
            <Link to="/exports" className="inline-flex h-10 items-center rounded-md border border-border-strong px-4 font-medium hover:bg-surface-muted">
              {t("reports.reports.myExports")}
            </Link>
          </div>
        }
      >
        {info.description}
      </PageHeader>

      <Card className="mb-4" aria-label={t("reports.reports.reportSettings")}>
        <form className="grid gap-3 sm:grid-cols-2 lg:grid-cols-4" onSubmit={(e) => e.preventDefault()}>
          <Field label={t("reports.reports.report")}>
            {(props) => (
              <Select {...props} value={info.name} onChange={(e) => navigate({ pathname: `/reports/${e.target.value}`, search: params.toString() })}>
                {catalogue.map((r) => (
                  <option key={r.name} value={r.name}>
                    {r.title}
                  </option>
                ))}
              </Select>
            )}
          </Field>
          <Field label={t("reports.reports.dateRange")}>
            {(props) => (
              <Select
                {...props}
                value={state.range}
                onChange={(e) => {
                  const range = e.target.value as Preset;
                  if (range === "custom") update({ range });
                  else {
                    // A new range reads in its own default interval unless "none" was chosen.
                    const dates = presetRange(range, todayIn(state.tz));
                    update({ range, ...dates, interval: state.interval === null ? null : defaultInterval(dates.since, dates.until) });
                  }
                }}
              >
                {PRESETS.map((p) => (
                  <option key={p.id} value={p.id}>
                    {p.label}
                  </option>
                ))}
              </Select>
            )}
          </Field>
          {state.range === "custom" ? (
            <>
              <Field label={t("reports.reports.from")} error={problem?.field === "since" ? problem.message : undefined}>
                {(props) => <Input {...props} type="date" value={state.since} onChange={(e) => update({ since: e.target.value })} />}
              </Field>
              <Field label={t("reports.reports.toIncluded")} error={problem?.field === "until" ? problem.message : undefined}>
                {(props) => <Input {...props} type="date" value={state.until} onChange={(e) => update({ until: e.target.value })} />}
              </Field>
            </>
          ) : null}
          <TimeZoneField value={state.tz} onChange={(tz) => update({ tz })} />
          <Field label={t("reports.reports.interval")}>
            {(props) => (
              <Select {...props} value={state.interval ?? "none"} onChange={(e) => update({ interval: e.target.value === "none" ? null : (e.target.value as ReportState["interval"]) })}>
                <option value="none">{t("reports.reports.noneTotals")}</option>
                {INTERVALS.filter((i) => info.intervals.includes(i.id)).map((i) => (
                  <option key={i.id} value={i.id}>
                    {i.label}
                  </option>
                ))}
              </Select>
            )}
          </Field>
          {info.group_by.length ? (
            <Field label={t("reports.reports.groupBy")}>
              {(props) => (
                <Select {...props} value={state.groupBy ?? ""} onChange={(e) => update({ groupBy: (e.target.value || null) as ReportState["groupBy"] })}>
                  <option value="">{t("reports.reports.nothing")}</option>
                  {GROUPS.filter((g) => info.group_by.includes(g.id)).map((g) => (
                    <option key={g.id} value={g.id}>
                      {g.label}
                    </option>
                  ))}
                </Select>
              )}
            </Field>
          ) : null}
          <Filters info={info} state={state} update={update} />
        </form>
      </Card>

      {problem ? null : report.isError ? <FailureAlert error={report.error} /> : null}
      {!result && report.isFetching ? <Spinner label={t("reports.reports.loading")} /> : null}
      {result ? (
        <ReportView
          result={result}
          measure={state.measure}
          onMeasure={(measure) => update({ measure })}
          exportBar={<ExportMenu name={info.name} query={query} disabled={problem !== null} />}
          stale={report.isFetching}
        />
      ) : null}
    </>
  );
}

function TimeZoneField({ value, onChange }: { value: string; onChange: (tz: string) => void }) {
  const [text, setText] = useState(value);
  const zones = useMemo(timeZones, []);
  const valid = isTimeZone(text);
  return (
    <Field label={t("reports.reports.timeZone")} error={valid ? undefined : t("reports.reports.notATimeZone")} description={text === browserTimeZone() ? t("reports.reports.yours") : undefined}>
      {(props) => (
        <>
          <Input
            {...props}
            list="report-zones"
            value={text}
            onChange={(e) => {
              setText(e.target.value);
              if (isTimeZone(e.target.value) && e.target.value.includes("/") ? true : e.target.value === "UTC") onChange(e.target.value);
            }}
            onBlur={() => (isTimeZone(text) ? onChange(text) : undefined)}
          />
          <datalist id="report-zones">
            {zones.map((z) => (
              <option key={z} value={z} />
            ))}
          </datalist>
        </>
      )}
    </Field>
  );
}

const FILTER_LABELS: Record<FilterKey, string> = labelled({
  team_id: "reports.reports.team",
  assignee_id: "reports.reports.agent",
  category_id: "reports.reports.category",
  priority: "reports.reports.priority",
  channel: "reports.reports.channel",
  type: "reports.reports.type",
});

function Filters({ info, state, update }: { info: ReportInfo; state: ReportState; update: (patch: Partial<ReportState>) => void }) {
  const teams = useTeams();
  const users = useUsers();
  const categories = useCategories();
  const ticketTypes = useTicketTypes();
  const options: Record<FilterKey, { id: string; label: string }[]> = {
    team_id: (teams.data ?? []).map((item) => ({ id: item.id, label: item.name })),
    assignee_id: [...(users.data?.values() ?? [])].filter((u) => STAFF_ROLES.includes(u.role)).map((u) => ({ id: u.id, label: u.name })),
    category_id: (categories.data ?? []).map((c) => ({ id: c.id, label: c.name })),
    priority: LEVELS.map((l: Level) => ({ id: l, label: LEVEL_LABELS[l] })),
    channel: CHANNELS,
    type: (ticketTypes.data ?? []).map((item) => ({ id: item.key, label: item.name })),
  };
  return (
    <>
      {(Object.keys(FILTER_LABELS) as FilterKey[])
        .filter((key) => info.filters.includes(key))
        .map((key) => (
          <Field key={key} label={FILTER_LABELS[key]}>
            {(props) => (
              <Select {...props} value={state.filters[key] ?? ""} onChange={(e) => update({ filters: { [key]: e.target.value } })}>
                <option value="">{t("reports.reports.any")}</option>
                {options[key].map((o) => (
                  <option key={o.id} value={o.id}>
                    {o.label}
                  </option>
                ))}
              </Select>
            )}
          </Field>
        ))}
    </>
  );
}

/** A value with its unit, linked to the tickets it counts (or is measured over) when the
 * server gives that list. */
function Cell({ measure, value, drilldown }: { measure: Measure; value: number | null | undefined; drilldown?: Record<string, string> | null }) {
  const text = formatValue(measure.unit, value);
  if (drilldown && typeof value === "number" && (value > 0 || measure.unit !== "count")) {
    return (
      <Link to={drilldownHref(drilldown)} className="text-accent-text underline" aria-label={t("reports.reports.textValueShowThe", { text, value: measure.label.toLowerCase() })}>
        {text}
      </Link>
    );
  }
  return <>{text}</>;
}

export function ReportView({
  result,
  measure: wanted,
  onMeasure,
  exportBar,
  stale,
}: {
  result: ReportResult;
  measure: string | null;
  onMeasure: (key: string) => void;
  exportBar?: React.ReactNode;
  stale?: boolean;
}) {
  const measure = chartMeasure(result, wanted);
  const chart = shapeChart(result, wanted);
  const totals = result.totals ?? {};
  const totalKeys = Object.keys(totals);
  const extra = totalKeys.filter((k) => !result.measures.some((m) => m.key === k));
  return (
    <div className="space-y-4" aria-busy={stale || undefined}>
      <Card aria-labelledby="report-title">
        <div className="mb-3 flex flex-wrap items-start justify-between gap-3">
          <div>
            <h2 id="report-title" className="text-lg font-semibold">
              {result.title}
            </h2>
            <p className="text-fg-muted" data-testid="report-range">
              {rangeLabel(firstDay(result), lastDay(result))} · {result.tz}
            </p>
          </div>
          {exportBar}
        </div>
        {totalKeys.length ? (
          <dl className="mb-4 grid gap-3 sm:grid-cols-2 lg:grid-cols-4" aria-label={t("reports.reports.totals")}>
            {result.measures
              .filter((m) => m.key in totals)
              .map((m) => (
                <div key={m.key} className="rounded-md border border-border p-3">
                  <dt className="text-fg-muted">{m.label}</dt>
                  <dd className="text-xl font-semibold tabular-nums" data-testid={`total-${m.key}`}>
                    <Cell measure={m} value={totals[m.key]} drilldown={totalDrilldown(result, m.key)} />
                  </dd>
                </div>
              ))}
            {extra.map((k) => (
              <div key={k} className="rounded-md border border-border p-3">
                <dt className="text-fg-muted">{k.replaceAll("_", " ")}</dt>
                <dd className="text-xl font-semibold tabular-nums" data-testid={`total-${k}`}>
                  {formatValue("count", totals[k])}
                </dd>
              </div>
            ))}
          </dl>
        ) : null}
        {result.measures.length > 1 && measure ? (
          <div className="mb-3 flex items-center gap-2">
            <label htmlFor="chart-measure" className="text-fg-muted">
              {t("reports.reports.chart")}
            </label>
            <Select id="chart-measure" className="max-w-72" value={measure.key} onChange={(e) => onMeasure(e.target.value)}>
              {result.measures.map((m) => (
                <option key={m.key} value={m.key}>
                  {m.label}
                </option>
              ))}
            </Select>
          </div>
        ) : null}
        {chart === null ? (
          <p className="text-fg-muted">{t("reports.reports.nothingToShowFor")}</p>
        ) : chart.kind === "line" ? (
          <>
            <LineChart
              testId="report-chart"
              title={t("reports.reports.titleValue", { title: result.title, value: (chart.series.length === 1 ? chart.series[0]?.name : measure?.label) ?? "" })}
              labels={chart.labels}
              series={chart.series.map((s, i) => ({ name: s.name, values: s.values, tone: LINE_TONES[i % LINE_TONES.length] ?? "accent" }))}
              summary={describeChart(result, chart)}
              tick={(v) => formatTick(chart.unit, v)}
              format={(v) => formatValue(chart.unit, v)}
            />
            {chart.omitted ? <p className="mt-1 text-fg-muted">{t("reports.reports.omittedSmallerGroupsAre", { omitted: chart.omitted })}</p> : null}
          </>
        ) : (
          <figure data-testid="report-chart">
            <figcaption className="mb-2 font-semibold">
              {result.title}: {chart.measure.label}
            </figcaption>
            <p className="sr-only">{describeChart(result, chart)}</p>
            <BarTable
              caption={t("reports.reports.labelByGroup", { label: chart.measure.label })}
              valueHeader={chart.measure.label}
              share={chart.unit === "count"}
              format={(v) => formatValue(chart.unit, v)}
              rows={chart.bars.map((b) => ({
                label: b.drilldown ? (
                  <Link to={drilldownHref(b.drilldown)} className="text-accent-text underline">
                    {b.label}
                  </Link>
                ) : (
                  b.label
                ),
                value: b.value ?? 0,
              }))}
            />
          </figure>
        )}
      </Card>

      <Card aria-labelledby="report-table-title">
        <h2 id="report-table-title" className="mb-2 font-semibold">
          {t("reports.reports.theNumbers")}
        </h2>
        <ScrollArea label={t("reports.reports.reportTable")}>
          <table className="w-full text-left" data-testid="report-table">
            <caption className="sr-only">{result.title}</caption>
            <thead className="border-b border-border text-fg-muted">
              <tr>
                <th scope="col" className="px-2 py-2 font-medium">
                  {result.interval ? t("reports.reports.period") : t("reports.reports.group")}
                  {result.interval && result.group_by ? t("reports.reports.group2") : ""}
                </th>
                {result.measures.map((m) => (
                  <th key={m.key} scope="col" className="px-2 py-2 text-right font-medium" title={m.description || undefined}>
                    {m.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {result.rows.map((row, i) => (
                <tr key={i} className="border-b border-border last:border-0">
                  <th scope="row" className="px-2 py-1 font-normal">
                    {rowLabel(row, result.interval)}
                  </th>
                  {result.measures.map((m) => (
                    <td key={m.key} className="px-2 py-1 text-right tabular-nums">
                      <Cell measure={m} value={row.values[m.key]} drilldown={measureDrilldown(row, m)} />
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollArea>
        {result.measures.some((m) => m.description) ? (
          <dl className="mt-3 space-y-1 text-fg-muted">
            {result.measures
              .filter((m) => m.description)
              .map((m) => (
                <div key={m.key}>
                  <dt className="inline font-medium">{m.label}: </dt>
                  <dd className="inline">{m.description}</dd>
                </div>
              ))}
          </dl>
        ) : null}
        {result.notes?.length ? (
          <ul className="mt-3 list-disc pl-5 text-fg-muted">
            {result.notes.map((n) => (
              <li key={n}>{n}</li>
            ))}
          </ul>
        ) : null}
      </Card>
    </div>
  );
}

function firstDay(result: ReportResult): string {
  return result.since.length <= 10 ? result.since : todayIn(result.tz, new Date(result.since));
}

/** The last local day of the range: `until` is the exclusive end (the next local midnight)
 * when the API answers instants, or the last day itself when it answers dates. */
function lastDay(result: ReportResult): string {
  if (result.until.length <= 10) return result.until;
  // The instant is (until + 1 day) 00:00 local: one day back, read in the report's zone.
  const instant = new Date(new Date(result.until).getTime() - 1);
  return todayIn(result.tz, instant);
}
