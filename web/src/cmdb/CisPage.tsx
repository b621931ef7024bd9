import { useState } from "react";
import { Link } from "react-router";
import { describeError } from "../api/problem";
import { ExportButton } from "../components/ExportButton";
import { Alert, Badge, Button, Card, EmptyState, Field, Input, PageHeader, Select, Spinner } from "../components/ui";
import { useMe } from "../auth/AuthProvider";
import { atLeast, can } from "../lib/domain";
import { t } from "../i18n/cmdb";
import { STATE_LABELS, listQuery, useCis, useClasses, type CIFilters, type CIState } from "./api";

/** The configuration items, by name, with filters; managers import, everyone exports. */
export default function CisPage() {
  const [filters, setFilters] = useState<CIFilters>({ q: "", class_id: "", state: "", location: "" });
  const me = useMe();
  const classes = useClasses();
  const cis = useCis({ ...filters, q: filters.q.trim(), location: filters.location.trim() });
  const className = (id: string) => classes.data?.find((c) => c.id === id)?.name ?? "";
  const set = (patch: Partial<CIFilters>) => setFilters((now) => ({ ...now, ...patch }));
  const rows = cis.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <>
      <PageHeader
        title={t("cmdb.title")}
        actions={
          <div className="flex gap-2">
            <ExportButton path="/v1/cis/export" query={listQuery(filters)} label={t("cmdb.export")} />
            {can(me, "cmdb:write") ? (
              <Link to="/cmdb/new" className="inline-flex h-10 items-center rounded-md bg-accent px-4 font-medium text-accent-fg hover:opacity-90">
                {t("cmdb.new")}
              </Link>
            ) : null}
            {atLeast(me.role, "manager") ? (
              <Link to="/cmdb/import" className="inline-flex h-10 items-center rounded-md bg-accent px-4 font-medium text-accent-fg hover:opacity-90">
                {t("cmdb.import")}
              </Link>
            ) : null}
          </div>
        }
      >
        {t("cmdb.intro")}
      </PageHeader>
      <div className="mb-4 flex flex-wrap items-end gap-3" role="search" aria-label={t("cmdb.filter")}>
        <Field label={t("cmdb.search")}>
          {(p) => <Input {...p} type="search" value={filters.q} onChange={(e) => set({ q: e.target.value })} placeholder={t("cmdb.searchHint")} />}
        </Field>
        <Field label={t("cmdb.class")}>
          {(p) => (
            <Select {...p} value={filters.class_id} onChange={(e) => set({ class_id: e.target.value })}>
              <option value="">{t("cmdb.all")}</option>
              {classes.data?.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <Field label={t("cmdb.state")}>
          {(p) => (
            <Select {...p} value={filters.state} onChange={(e) => set({ state: e.target.value as CIState | "" })}>
              <option value="">{t("cmdb.all")}</option>
              {(Object.keys(STATE_LABELS) as CIState[]).map((s) => (
                <option key={s} value={s}>
                  {STATE_LABELS[s]}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <Field label={t("cmdb.location")}>
          {(p) => <Input {...p} value={filters.location} onChange={(e) => set({ location: e.target.value })} />}
        </Field>
      </div>
      {cis.isPending ? <Spinner label={t("cmdb.loading")} /> : null}
      {cis.isError ? <Alert title={t("cmdb.loadFailed")}>{describeError(cis.error)}</Alert> : null}
      {cis.isSuccess && rows.length === 0 ? <EmptyState title={t("cmdb.empty")}>{t("cmdb.emptyHint")}</EmptyState> : null}
      {rows.length ? (
        <Card className="overflow-x-auto p-0">
          <table className="w-full text-left">
            <caption className="sr-only">{t("cmdb.title")}</caption>
            <thead className="border-b border-border text-fg-muted">
              <tr>
                <th scope="col" className="px-4 py-2">{t("cmdb.name")}</th>
                <th scope="col" className="px-4 py-2">{t("cmdb.class")}</th>
                <th scope="col" className="px-4 py-2">{t("cmdb.state")}</th>
                <th scope="col" className="px-4 py-2">{t("cmdb.location")}</th>
                <th scope="col" className="px-4 py-2">{t("cmdb.externalId")}</th>
              </tr>
            </thead>
            <tbody data-testid="ci-rows">
              {rows.map((ci) => (
                <tr key={ci.id} className="border-b border-border last:border-b-0">
                  <td className="px-4 py-2">
                    <Link to={`/cmdb/${ci.id}`} className="font-medium text-accent-text underline">
                      {ci.name}
                    </Link>
                  </td>
                  <td className="px-4 py-2">{className(ci.class_id)}</td>
                  <td className="px-4 py-2">
                    <Badge>{STATE_LABELS[ci.state]}</Badge>
                  </td>
                  <td className="px-4 py-2">{ci.location}</td>
                  <td className="px-4 py-2 font-mono text-sm">{ci.external_id}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Card>
      ) : null}
      {cis.hasNextPage ? (
        <Button className="mt-3" variant="secondary" onClick={() => void cis.fetchNextPage()} disabled={cis.isFetchingNextPage}>
          {t("cmdb.more")}
        </Button>
      ) : null}
    </>
  );
}
