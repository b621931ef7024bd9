import { useState } from "react";
import { Link } from "react-router";
import { Alert, Button } from "../components/ui";
import { ErrorAlert } from "../tickets/Composer";
import { exportReport } from "./exporting";
import type { ExportFormat } from "./types";

const FORMATS: { format: ExportFormat; label: string }[] = [
  { format: "csv", label: "CSV" },
  { format: "json", label: "JSON" },
  { format: "pdf", label: "PDF" },
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
      <div role="group" aria-label="Export" className="flex flex-wrap items-center gap-2">
        <span className="text-fg-muted">Export</span>
        {FORMATS.map(({ format, label }) => (
          <Button key={format} size="sm" disabled={disabled} busy={busy === format} onClick={() => void run(format)} data-testid={`export-${format}`}>
            {label}
          </Button>
        ))}
        <Button size="sm" variant="ghost" disabled={disabled || busy !== null} onClick={() => void run("csv", true)} data-testid="export-background">
          CSV in the background
        </Button>
      </div>
      {queued ? (
        <Alert tone="info">
          The {queued.toUpperCase()} export is being prepared; you will be notified when it is ready.{" "}
          <Link to="/exports" className="text-accent-text underline">
            See my exports
          </Link>
        </Alert>
      ) : null}
      {error ? <ErrorAlert error={error} /> : null}
    </div>
  );
}
