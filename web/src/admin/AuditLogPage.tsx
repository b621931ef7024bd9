import { useInfiniteQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, ok } from "../api/client";
import { t } from "../i18n/admin";
import { Button, Card, EmptyState, Field, Input, PageHeader, Spinner } from "../components/ui";
import { formatDateTime } from "../lib/format";
import { ScrollArea } from "./fields";
import { FailureAlert } from "./forms";

interface Filters {
  action: string;
  entityType: string;
  from: string;
  to: string;
}

const NONE: Filters = { action: "", entityType: "", from: "", to: "" };

/** A date input's day as the instant its local midnight is (the API wants a zone). */
function instant(day: string, nextDay = false): string | null {
  if (!day) return null;
  const at = new Date(`${day}T00:00:00`);
  if (nextDay) at.setDate(at.getDate() + 1);
  return at.toISOString();
}

/** Admin → Audit log: what every sensitive action wrote, newest first (GET /v1/audit-events). */
export default function AuditLogPage() {
  const [draft, setDraft] = useState<Filters>(NONE);
  const [filters, setFilters] = useState<Filters>(NONE);
  const events = useInfiniteQuery({
    queryKey: ["admin", "audit-events", filters],
    queryFn: ({ pageParam, signal }) =>
      ok(
        api.GET("/v1/audit-events", {
          params: {
            query: {
              limit: 50,
              cursor: pageParam,
              action: filters.action || null,
              entity_type: filters.entityType || null,
              from: instant(filters.from),
              to: instant(filters.to, true),
            },
          },
          signal,
        }),
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (page) => page.next_cursor ?? null,
  });
  const rows = events.data?.pages.flatMap((p) => p.items) ?? [];
  const apply = (e: FormEvent) => {
    e.preventDefault();
    setFilters({ action: draft.action.trim(), entityType: draft.entityType.trim(), from: draft.from, to: draft.to });
  };
  const set = (key: keyof Filters) => (e: { target: { value: string } }) => setDraft((d) => ({ ...d, [key]: e.target.value }));
  return (
    <>
      <PageHeader title={t("admin.audit.title")}>{t("admin.audit.intro")}</PageHeader>
      <Card aria-labelledby="audit-heading">
        <h2 id="audit-heading" className="mb-3 font-semibold">
          {t("admin.audit.events")}
        </h2>
        <form className="mb-3 grid items-end gap-3 sm:grid-cols-5" role="search" aria-label={t("admin.audit.filter")} onSubmit={apply}>
          <Field label={t("admin.audit.action")} description={t("admin.audit.actionHint")}>
            {(p) => <Input {...p} maxLength={100} value={draft.action} onChange={set("action")} />}
          </Field>
          <Field label={t("admin.audit.entityType")}>
            {(p) => <Input {...p} maxLength={200} value={draft.entityType} onChange={set("entityType")} />}
          </Field>
          <Field label={t("admin.audit.from")}>{(p) => <Input {...p} type="date" value={draft.from} onChange={set("from")} />}</Field>
          <Field label={t("admin.audit.to")}>{(p) => <Input {...p} type="date" value={draft.to} onChange={set("to")} />}</Field>
          <Button type="submit">{t("admin.audit.apply")}</Button>
        </form>
        {events.isPending ? <Spinner label={t("admin.audit.loading")} /> : null}
        {events.isError ? <FailureAlert error={events.error} /> : null}
        {events.isSuccess && !rows.length ? <EmptyState title={t("admin.audit.nothing")} /> : null}
        {rows.length ? (
          <ScrollArea label={t("admin.audit.table")}>
            <table className="w-full text-left">
              <caption className="sr-only">{t("admin.audit.events")}</caption>
              <thead className="border-b border-border text-fg-muted">
                <tr>
                  <th scope="col" className="px-2 py-2 font-medium">{t("admin.audit.time")}</th>
                  <th scope="col" className="px-2 py-2 font-medium">{t("admin.audit.actor")}</th>
                  <th scope="col" className="px-2 py-2 font-medium">{t("admin.audit.action")}</th>
                  <th scope="col" className="px-2 py-2 font-medium">{t("admin.audit.entity")}</th>
                  <th scope="col" className="px-2 py-2 font-medium">{t("admin.audit.requestId")}</th>
                </tr>
              </thead>
              <tbody data-testid="audit-rows">
                {rows.map((e) => (
                  <tr key={e.id} className="border-b border-border align-top">
                    <td className="px-2 py-2 whitespace-nowrap">{formatDateTime(e.created_at)}</td>
                    <td className="px-2 py-2">{e.actor ? (e.actor.name ?? e.actor.id) : t("admin.audit.system")}</td>
                    <td className="px-2 py-2">
                      <details>
                        <summary className="cursor-pointer font-mono">{e.action}</summary>
                        <pre className="mt-1 max-w-md overflow-x-auto text-xs">{JSON.stringify(e.data, null, 2)}</pre>
                      </details>
                    </td>
                    <td className="px-2 py-2">
                      {e.entity_type} <span className="font-mono text-xs text-fg-muted">{e.entity_id}</span>
                    </td>
                    <td className="px-2 py-2 font-mono text-xs">{e.request_id}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollArea>
        ) : null}
        {events.hasNextPage ? (
          <div className="mt-3 text-center">
            <Button onClick={() => void events.fetchNextPage()} busy={events.isFetchingNextPage}>
              {t("admin.audit.loadMore")}
            </Button>
          </div>
        ) : null}
      </Card>
    </>
  );
}
