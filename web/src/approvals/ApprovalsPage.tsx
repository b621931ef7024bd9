import { useQuery } from "@tanstack/react-query";
import { Link, useSearchParams } from "react-router";
import { api, ok } from "../api/client";
import { describeError } from "../api/problem";
import { Alert, Badge, EmptyState, Field, PageHeader, Select, Spinner } from "../components/ui";
import { t, type MessageKey } from "../i18n";
import { formatRelative } from "../lib/format";
import { STATE_TONE, type Scope } from "./types";

const SCOPES: Scope[] = ["awaiting", "requested", "decided", "all"];

/** /approvals, "My approvals": what waits for my decision (by default), what I asked for,
 * what I decided; each opens the approval. */
export default function ApprovalsPage() {
  const [params, setParams] = useSearchParams();
  const scope = (SCOPES as string[]).includes(params.get("scope") ?? "") ? (params.get("scope") as Scope) : "awaiting";
  const list = useQuery({
    queryKey: ["approvals", scope],
    queryFn: ({ signal }) => ok(api.GET("/v1/approvals", { params: { query: { scope, limit: 100 } }, signal })),
  });
  const items = list.data?.items ?? [];
  return (
    <>
      <PageHeader title={t("approvals.title")}>{t("approvals.intro")}</PageHeader>
      <div className="mb-4 max-w-xs">
        <Field label={t("approvals.show")}>
          {(props) => (
            <Select {...props} value={scope} onChange={(e) => setParams({ scope: e.target.value })}>
              {SCOPES.map((s) => (
                <option key={s} value={s}>
                  {t(`approvals.scope.${s}` as MessageKey)}
                </option>
              ))}
            </Select>
          )}
        </Field>
      </div>
      {list.isPending ? <Spinner label={t("approvals.loading")} /> : null}
      {list.isError ? <Alert>{describeError(list.error)}</Alert> : null}
      {list.isSuccess && items.length === 0 ? <EmptyState title={t("approvals.empty")} /> : null}
      {items.length ? (
        <ul className="divide-y divide-border rounded-md border border-border bg-surface" aria-label={t("approvals.list")}>
          {items.map((a) => (
            <li key={a.id} className="flex flex-wrap items-center gap-3 px-4 py-3">
              <div className="min-w-0 flex-1">
                <Link to={`/approvals/${a.id}`} className="font-medium text-accent-text underline">
                  {a.title || a.subject?.title || t("approvals.untitled")}
                </Link>
                <p className="text-fg-muted">
                  {a.current_stage !== null && a.stages[a.current_stage] ? `${a.stages[a.current_stage]!.name} · ` : ""}
                  {formatRelative(a.created_at)}
                </p>
              </div>
              <Badge tone={STATE_TONE[a.state]}>{t(`approvals.state.${a.state}` as MessageKey)}</Badge>
            </li>
          ))}
        </ul>
      ) : null}
    </>
  );
}
