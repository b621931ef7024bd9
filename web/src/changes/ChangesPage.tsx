import { useState } from "react";
import { Link } from "react-router";
import { describeError } from "../api/problem";
import { useMe } from "../auth/AuthProvider";
import { Alert, Badge, Button, Card, EmptyState, Field, Input, PageHeader, Spinner } from "../components/ui";
import { can } from "../lib/domain";
import { useDebounced } from "../lib/useDebounced";
import { useLiveChanges } from "../live/LiveProvider";
import { formatDateTime } from "../lib/format";
import { t } from "../i18n/changes";
import { RISK_LABELS, RISK_TONE, STATE_LABELS, TYPE_LABELS, searchable, useChanges, type ChangeFilters } from "./api";
import { Choice, entries } from "./parts";

const LINK = "inline-flex h-10 items-center rounded-md px-4 font-medium";

/** The change list, newest first, searched (a number or words of the title or description)
 * and filtered by state, type and risk; links to the calendar, a new change and (managers)
 * the change settings. */
export default function ChangesPage() {
  const me = useMe();
  useLiveChanges(true);
  const [filters, setFilters] = useState<ChangeFilters>({ q: "", state: "", type: "", risk_level: "" });
  const q = useDebounced(filters.q);
  const changes = useChanges({ ...filters, q });
  const tooShort = filters.q.trim() !== "" && searchable(filters.q) === null;
  const set = (patch: Partial<ChangeFilters>) => setFilters((now) => ({ ...now, ...patch }));
  const rows = changes.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <>
      <PageHeader
        title={t("changes.title")}
        actions={
          <div className="flex flex-wrap gap-2">
            <Link to="/changes/calendar" className={`${LINK} border border-border text-fg`}>
              {t("changes.calendar")}
            </Link>
            {can(me, "change_settings:manage") ? (
              <Link to="/changes/settings" className={`${LINK} border border-border text-fg`}>
                {t("changes.settings")}
              </Link>
            ) : null}
            {can(me, "change:create") ? (
              <Link to="/changes/new" className={`${LINK} bg-accent text-accent-fg hover:opacity-90`}>
                {t("changes.new")}
              </Link>
            ) : null}
          </div>
        }
      >
        {t("changes.intro")}
      </PageHeader>
      <div className="mb-4 flex flex-wrap items-end gap-3" role="search" aria-label={t("changes.filter")}>
        <Field label={t("changes.search")} description={tooShort ? t("changes.searchShort") : undefined}>
          {(p) => <Input {...p} type="search" value={filters.q} onChange={(e) => set({ q: e.target.value })} placeholder={t("changes.searchHint")} maxLength={200} />}
        </Field>
        <Choice label={t("changes.stateLabel")} value={filters.state} empty={t("changes.all")} options={entries(STATE_LABELS)} onChange={(state) => set({ state })} />
        <Choice label={t("changes.typeLabel")} value={filters.type} empty={t("changes.all")} options={entries(TYPE_LABELS)} onChange={(type) => set({ type })} />
        <Choice label={t("changes.riskLabel")} value={filters.risk_level} empty={t("changes.all")} options={entries(RISK_LABELS)} onChange={(risk_level) => set({ risk_level })} />
      </div>
      {changes.isPending ? <Spinner label={t("changes.loading")} /> : null}
      {changes.isError ? <Alert title={t("changes.loadFailed")}>{describeError(changes.error)}</Alert> : null}
      {changes.isSuccess && rows.length === 0 ? (
        searchable(q) ? <EmptyState title={t("changes.noMatch")}>{t("changes.noMatchHint")}</EmptyState> : <EmptyState title={t("changes.empty")}>{t("changes.emptyHint")}</EmptyState>
      ) : null}
      {rows.length ? (
        <Card className="overflow-x-auto p-0">
          <table className="w-full text-left">
            <caption className="sr-only">{t("changes.title")}</caption>
            <thead className="border-b border-border text-fg-muted">
              <tr>
                <th scope="col" className="px-4 py-2">{t("changes.number")}</th>
                <th scope="col" className="px-4 py-2">{t("changes.titleLabel")}</th>
                <th scope="col" className="px-4 py-2">{t("changes.typeLabel")}</th>
                <th scope="col" className="px-4 py-2">{t("changes.stateLabel")}</th>
                <th scope="col" className="px-4 py-2">{t("changes.riskLabel")}</th>
                <th scope="col" className="px-4 py-2">{t("changes.plannedStart")}</th>
              </tr>
            </thead>
            <tbody data-testid="change-rows">
              {rows.map((c) => (
                <tr key={c.id} className="border-b border-border last:border-b-0">
                  <td className="px-4 py-2 font-mono text-sm">{t("changes.ref", { n: c.number })}</td>
                  <td className="px-4 py-2">
                    <Link to={`/changes/${c.id}`} className="font-medium text-accent-text underline">
                      {c.title}
                    </Link>
                  </td>
                  <td className="px-4 py-2">{TYPE_LABELS[c.type]}</td>
                  <td className="px-4 py-2">
                    <Badge tone="info">{STATE_LABELS[c.state]}</Badge>
                  </td>
                  <td className="px-4 py-2">{c.risk_level ? <Badge tone={RISK_TONE[c.risk_level]}>{RISK_LABELS[c.risk_level]}</Badge> : t("changes.notAssessed")}</td>
                  <td className="px-4 py-2">{c.planned_start ? formatDateTime(c.planned_start) : "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Card>
      ) : null}
      {changes.hasNextPage ? (
        <Button className="mt-3" variant="secondary" onClick={() => void changes.fetchNextPage()} disabled={changes.isFetchingNextPage}>
          {t("changes.more")}
        </Button>
      ) : null}
    </>
  );
}
