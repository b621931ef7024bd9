import type { ReactNode } from "react";
import { FailureAlert } from "../admin/forms";
import { Card, Spinner } from "../components/ui";
import { t } from "../i18n/manager";

/** How often the dashboard's figures are read again while no push arrives. */
export const REFRESH_MS = 60_000;

export function Figure({ label, value, detail, testId }: { label: ReactNode; value: ReactNode; detail?: ReactNode; testId: string }) {
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

export function Panel({ title, children, id }: { title: string; children: ReactNode; id: string }) {
  return (
    <Card aria-labelledby={id} className="min-w-0">
      <h2 id={id} className="mb-3 font-semibold">
        {title}
      </h2>
      {children}
    </Card>
  );
}

export function Loadable<T>({ query, children }: { query: { isPending: boolean; isError: boolean; error: unknown; data?: T }; children: (data: T) => ReactNode }) {
  if (query.isPending) return <Spinner label={t("manager.panels.loading")} />;
  if (query.isError) return <FailureAlert error={query.error} />;
  return <>{query.data === undefined ? null : children(query.data)}</>;
}
