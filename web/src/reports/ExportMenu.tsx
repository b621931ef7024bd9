import { useState } from "react";
import { Link } from "react-router";
import { Alert, Button } from "../components/ui";
import { ErrorAlert } from "../tickets/Composer";
import { exportReport } from "./exporting";
import type { ExportFormat } from "./types";
import { t } from "../i18n/reports";

const FORMATS: { format: ExportFormat; label: string }[] = [
  { format: "csv", label: t("reports.exportMenu.csv") },
  { format: "json", label: t("reports.exportMenu.json") },
  { format: "pdf", label: t("reports.exportMenu.pdf") },
];

/** Export buttons of a report: each downloads at once, or starts a job (too large) that the
 * Exports page follows. */
export function ExportMenu({ name, query, disabled }: { name: string; query: Record<string, string>; disabled?: boolean }) {
  const [busy, setBusy] = useState<ExportFormat | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [queued, setQueued] = useState<ExportFormat | null>(null);
  const run = async (format: ExportFormat, background = false) => {
    setBusy(format);
    setError(null);
    setQueued(null);
    try {
      const outcome = await exportReport(name, query, format, background);
      if (outcome.kind === "job") setQueued(format);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(null);
    }
  };
  return (
    <div className="flex flex-col gap-2">
      <div role="group" aria-label={t("reports.exportMenu.export")} className="flex flex-wrap items-center gap-2">
        <span className="text-fg-muted">{t("reports.exportMenu.export")}</span>
        {FORMATS.map(({ format, label }) => (
          <Button key={format} size="sm" disabled={disabled} busy={busy === format} onClick={() => void run(format)} data-testid={`export-${format}`}>
            {label}
          </Button>
        ))}
        <Button size="sm" variant="ghost" disabled={disabled || busy !== null} onClick={() => void run("csv", true)} data-testid="export-background">
          {t("reports.exportMenu.csvInTheBackground")}
        </Button>
      </div>
      {queued ? (
        <Alert tone="info">
          {t("reports.exportMenu.the")}{" "}{queued.toUpperCase()}{" "}{t("reports.exportMenu.exportIsBeingPrepared")}{" "}
          <Link to="/exports" className="text-accent-text underline">
            {t("reports.exportMenu.seeMyExports")}
          </Link>
        </Alert>
      ) : null}
      {error ? <ErrorAlert error={error} /> : null}
    </div>
  );
}
