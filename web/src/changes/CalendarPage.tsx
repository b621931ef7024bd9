import { useState, type ReactNode } from "react";
import { Link } from "react-router";
import { describeError } from "../api/problem";
import { Alert, Badge, Button, Card, EmptyState, PageHeader, Spinner } from "../components/ui";
import { displayLocale, formatDateTime } from "../lib/format";
import { useLiveChanges } from "../live/LiveProvider";
import { t } from "../i18n/changes";
import { STATE_LABELS, TYPE_LABELS, useCalendar } from "./api";

function monthStart(offset: number): Date {
  const now = new Date();
  return new Date(now.getFullYear(), now.getMonth() + offset, 1);
}

/** The change calendar: one month's planned changes and blackout windows, as one list in
 * time order (a table a screen reader reads row by row), with the previous and next month. */
export default function CalendarPage() {
  const [offset, setOffset] = useState(0);
  useLiveChanges(true);
  const from = monthStart(offset);
  const to = monthStart(offset + 1);
  const calendar = useCalendar(from.toISOString(), to.toISOString());
  const month = new Intl.DateTimeFormat(displayLocale(), { month: "long", year: "numeric" }).format(from);
  type Row = { key: string; start: string; end: string; kind: "change" | "blackout"; node: ReactNode };
  const rows: Row[] = [
    ...(calendar.data?.changes ?? []).map((c): Row => ({
      key: c.id,
      start: c.planned_start ?? "",
      end: c.planned_end ?? "",
      kind: "change",
      node: (
        <>
          <Link to={`/changes/${c.id}`} className="font-medium text-accent-text underline">
            {t("changes.refTitle", { n: c.number, title: c.title })}
          </Link>{" "}
          <Badge>{TYPE_LABELS[c.type]}</Badge> <Badge tone="info">{STATE_LABELS[c.state]}</Badge>
        </>
      ),
    })),
    ...(calendar.data?.blackouts ?? []).map((b): Row => ({
      // A recurring blackout appears once per occurrence: the id alone is not unique.
      key: `${b.id}@${b.starts_at}`,
      start: b.starts_at,
      end: b.ends_at,
      kind: "blackout",
      node: (
        <>
          <Badge tone="danger">{t("changes.calendar.blackout")}</Badge> {b.name}
          {b.recurring ? <> <Badge>{t("changes.calendar.recurring")}</Badge></> : null}
        </>
      ),
    })),
  ].sort((a, b) => a.start.localeCompare(b.start));
  return (
    <>
      <p className="mb-2">
        <Link to="/changes" className="text-accent-text underline">
          {t("changes.back")}
        </Link>
      </p>
      <PageHeader
        title={t("changes.calendar.title", { month })}
        actions={
          <div className="flex gap-2">
            <Button onClick={() => setOffset(offset - 1)}>{t("changes.calendar.previous")}</Button>
            <Button onClick={() => setOffset(0)}>{t("changes.calendar.today")}</Button>
            <Button onClick={() => setOffset(offset + 1)}>{t("changes.calendar.next")}</Button>
          </div>
        }
      >
        {t("changes.calendar.intro")}
      </PageHeader>
      {calendar.isPending ? <Spinner label={t("changes.loading")} /> : null}
      {calendar.isError ? <Alert title={t("changes.loadFailed")}>{describeError(calendar.error)}</Alert> : null}
      {calendar.isSuccess && rows.length === 0 ? <EmptyState title={t("changes.calendar.empty")} /> : null}
      {rows.length ? (
        <Card className="overflow-x-auto p-0">
          <table className="w-full text-left">
            <caption className="sr-only">{t("changes.calendar.title", { month })}</caption>
            <thead className="border-b border-border text-fg-muted">
              <tr>
                <th scope="col" className="px-4 py-2">{t("changes.calendar.starts")}</th>
                <th scope="col" className="px-4 py-2">{t("changes.calendar.ends")}</th>
                <th scope="col" className="px-4 py-2">{t("changes.calendar.what")}</th>
              </tr>
            </thead>
            <tbody data-testid="calendar-rows">
              {rows.map((r) => (
                <tr key={`${r.kind}-${r.key}`} className="border-b border-border last:border-b-0">
                  <td className="px-4 py-2">{formatDateTime(r.start)}</td>
                  <td className="px-4 py-2">{formatDateTime(r.end)}</td>
                  <td className="px-4 py-2">{r.node}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Card>
      ) : null}
    </>
  );
}
