import { useState } from "react";
import { Link } from "react-router";
import { describeError } from "../api/problem";
import { Alert, Badge, Card, EmptyState, Field, Input, PageHeader, Select, Spinner } from "../components/ui";
import { formatRelative } from "../lib/format";
import { SCOPE_LABELS, describeAction, useMacros, type MacroScope } from "./api";
import { t } from "../i18n/macros";

/** Macros the person may use: personal, their teams', the tenant's; filter by scope,
 * search by name; a badge on each macro whose references no longer resolve. */
export default function MacrosPage() {
  const [q, setQ] = useState("");
  const [scope, setScope] = useState<MacroScope | "">("");
  const [archived, setArchived] = useState(false);
  const macros = useMacros(q.trim(), scope, archived);
  return (
    <>
      <PageHeader
        title={t("macros.macros.macros")}
        actions={
          <Link to="/macros/new" className="inline-flex h-10 items-center rounded-md bg-accent px-4 font-medium text-accent-fg hover:opacity-90">
            {t("macros.macros.newMacro")}
          </Link>
        }
      >
        {t("macros.macros.repliesNotesAndChanges")}{" "}<kbd>{t("macros.macros.m")}</kbd>{" "}{t("macros.macros.onATicket")}
      </PageHeader>
      <div className="mb-4 flex flex-wrap items-end gap-3" role="search" aria-label={t("macros.macros.filterMacros")}>
        <Field label={t("macros.macros.name")}>
          {(p) => <Input {...p} type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder={t("macros.macros.partOfTheName")} />}
        </Field>
        <Field label={t("macros.macros.scope")}>
          {(p) => (
            <Select {...p} value={scope} onChange={(e) => setScope(e.target.value as MacroScope | "")}>
              <option value="">{t("macros.macros.all")}</option>
              {(Object.keys(SCOPE_LABELS) as MacroScope[]).map((s) => (
                <option key={s} value={s}>
                  {SCOPE_LABELS[s]}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <label className="flex h-10 items-center gap-2">
          <input type="checkbox" checked={archived} onChange={(e) => setArchived(e.target.checked)} />{" "}{t("macros.macros.showArchived")}
        </label>
      </div>
      {macros.isPending ? <Spinner label={t("macros.macros.loadingMacros")} /> : null}
      {macros.isError ? <Alert title={t("macros.macros.couldNotLoadThe")}>{describeError(macros.error)}</Alert> : null}
      {macros.isSuccess && macros.data.length === 0 ? (
        <EmptyState title={t("macros.macros.noMacrosYet")}>{t("macros.macros.createOneForThe")}</EmptyState>
      ) : null}
      {macros.isSuccess && macros.data.length ? (
        <Card className="overflow-x-auto p-0">
          <table className="w-full text-left">
            <caption className="sr-only">{t("macros.macros.macros")}</caption>
            <thead className="border-b border-border text-fg-muted">
              <tr>
                <th scope="col" className="px-4 py-2">{t("macros.macros.name")}</th>
                <th scope="col" className="px-4 py-2">{t("macros.macros.scope")}</th>
                <th scope="col" className="px-4 py-2">{t("macros.macros.does")}</th>
                <th scope="col" className="px-4 py-2">{t("macros.macros.used")}</th>
                <th scope="col" className="px-4 py-2">{t("macros.macros.status")}</th>
              </tr>
            </thead>
            <tbody>
              {macros.data.map((macro) => (
                <tr key={macro.id} className="border-b border-border last:border-b-0">
                  <td className="px-4 py-2">
                    <Link to={`/macros/${macro.id}`} className="font-medium text-accent-text underline">
                      {macro.name}
                    </Link>
                  </td>
                  <td className="px-4 py-2">
                    <Badge>{SCOPE_LABELS[macro.scope]}</Badge>
                  </td>
                  <td className="px-4 py-2 text-fg-muted">{macro.actions.map(describeAction).join(" · ")}</td>
                  <td className="px-4 py-2">
                    {macro.usage_count}×{macro.last_used_at ? <span className="text-fg-muted"> · {formatRelative(macro.last_used_at)}</span> : null}
                  </td>
                  <td className="px-4 py-2">
                    {macro.problems.length ? <Badge tone="danger">{macro.problems.length === 1 ? t("macros.macros.1Problem") : t("macros.macros.lengthProblems", { length: macro.problems.length })}</Badge> : null}
                    {macro.archived ? <Badge>{t("macros.macros.archived")}</Badge> : null}
                    {!macro.problems.length && !macro.archived ? <Badge tone="success">{t("macros.macros.ready")}</Badge> : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </Card>
      ) : null}
    </>
  );
}
