import { useState } from "react";
import { downloadExport, type ExportPath } from "../api/download";
import { ErrorAlert } from "../tickets/Composer";
import { Button } from "./ui";

type Query = Parameters<typeof downloadExport>[1];

/** "Export CSV": downloads what the page shows (its filters), as the server streams it. */
export function ExportButton({ path, query, label = "Export CSV" }: { path: ExportPath; query: Query; label?: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      await downloadExport(path, { ...query, format: "csv" });
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="flex flex-col gap-2">
      <Button type="button" onClick={() => void run()} busy={busy} data-testid="export-csv">
        {label}
      </Button>
      {error ? <ErrorAlert error={error} /> : null}
    </div>
  );
}
