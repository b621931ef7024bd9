import type { ReactNode } from "react";
import { ScrollArea } from "../admin/fields";
import { FailureAlert } from "../admin/forms";
import { Card, Spinner } from "../components/ui";
import { formatDuration, type DurationStats } from "./metrics";

/** How often the dashboard's figures are read again. */
export const REFRESH_MS = 60_000;

export function Figure({ label, value, detail, testId }: { label: string; value: ReactNode; detail?: ReactNode; testId: string }) {
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
  if (query.isPending) return <Spinner label="Loading" />;
  if (query.isError) return <FailureAlert error={query.error} />;
  return <>{query.data === undefined ? null : children(query.data)}</>;
}

export function count(list: { items: unknown[]; truncated: boolean } | undefined): string {
  if (!list) return "…";
  return `${list.items.length}${list.truncated ? "+" : ""}`;
}

export function TimesTable({ rows }: { rows: { label: string; first: DurationStats; resolution: DurationStats }[] }) {
  return (
    <ScrollArea label="Times by priority">
      <table className="w-full text-left" data-testid="times-table">
        <caption className="sr-only">First response and resolution times by priority</caption>
        <thead className="border-b border-border text-fg-muted">
          <tr>
            <th scope="col" className="px-2 py-2 font-medium">Priority</th>
            <th scope="col" className="px-2 py-2 text-right font-medium">First response, median</th>
            <th scope="col" className="px-2 py-2 text-right font-medium">90th percentile</th>
            <th scope="col" className="px-2 py-2 text-right font-medium">Resolution, median</th>
            <th scope="col" className="px-2 py-2 text-right font-medium">90th percentile</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.label} className="border-b border-border last:border-0">
              <th scope="row" className="px-2 py-2 font-normal">
                {r.label}
              </th>
              <td className="px-2 py-2 text-right tabular-nums">
                {formatDuration(r.first.median)} <span className="text-fg-muted">({r.first.count})</span>
              </td>
              <td className="px-2 py-2 text-right tabular-nums">{formatDuration(r.first.p90)}</td>
              <td className="px-2 py-2 text-right tabular-nums">
                {formatDuration(r.resolution.median)} <span className="text-fg-muted">({r.resolution.count})</span>
              </td>
              <td className="px-2 py-2 text-right tabular-nums">{formatDuration(r.resolution.p90)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollArea>
  );
}
