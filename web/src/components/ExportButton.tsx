import { useState } from "react";
import { Link } from "react-router";
import { idempotencyKey } from "../api/client";
import { downloadExport, type ExportPath } from "../api/download";
import { startExport } from "../reports/api";
import { needsJob } from "../reports/exporting";
import { ErrorAlert } from "../tickets/Composer";
import { Alert, Button } from "./ui";
import { t } from "../i18n";

type Query = Parameters<typeof downloadExport>[1];

/** The ticket list's parameters as an export job takes them (no paging, no empty values). */
export function jobParams(query: Query): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(query)) {
    if (["limit", "cursor", "format"].includes(key) || value === null || value === undefined || value === "") continue;
    out[key] = Array.isArray(value) ? value.map(String) : String(value);
  }
  return out;
}

/** "Export CSV": downloads what the page shows (its filters), as the server streams it; a
 * list too large to download at once becomes an export job (My exports). */
export function ExportButton({ path, query, label = t("components.export.csv") }: { path: ExportPath; query: Query; label?: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [queued, setQueued] = useState(false);
  const run = async () => {
    setBusy(true);
    setError(null);
    setQueued(false);
    try {
      await downloadExport(path, { ...query, format: "csv" });
    } catch (failure) {
      if (path === "/v1/tickets/export" && needsJob(failure)) {
        try {
          await startExport({ kind: "tickets", params: jobParams(query), format: "csv" }, idempotencyKey());
          setQueued(true);
        } catch (jobFailure) {
          setError(jobFailure);
        }
      } else setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="flex flex-col gap-2">
      <Button type="button" onClick={() => void run()} busy={busy} data-testid="export-csv">
        {label}
      </Button>
      {queued ? (
        <Alert tone="info">
          {t("components.export.queued")}{" "}
          <Link to="/exports" className="text-accent-text underline">
            {t("components.export.seeMine")}
          </Link>
        </Alert>
      ) : null}
      {error ? <ErrorAlert error={error} /> : null}
    </div>
  );
}
