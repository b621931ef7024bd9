import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { describeError } from "../api/problem";
import { Alert, Button, Card, Field, Input, PageHeader } from "../components/ui";
import { t } from "../i18n/cmdb";
import { importCsv, type ImportReport } from "./api";

/** The import wizard: choose a CSV, check it (a dry run: every row's problems), then
 * import it — all rows, or (asked for) only the rows that pass. */
export default function ImportPage() {
  const client = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [partial, setPartial] = useState(false);
  const [checked, setChecked] = useState<ImportReport | null>(null);
  const [done, setDone] = useState<ImportReport | null>(null);
  const check = useMutation({
    mutationFn: (chosen: File) => importCsv(chosen, { dryRun: true, partial: false }),
    onSuccess: (report) => {
      setChecked(report);
      setDone(null);
    },
  });
  const run = useMutation({
    mutationFn: (chosen: File) => importCsv(chosen, { dryRun: false, partial }),
    onSuccess: (report) => {
      setDone(report);
      void client.invalidateQueries({ queryKey: ["cmdb"] });
    },
  });
  const canImport = checked !== null && (checked.failed === 0 || partial) && checked.rows > checked.failed;
  return (
    <>
      <p className="mb-2">
        <Link to="/cmdb" className="text-accent-text underline">
          {t("cmdb.detail.back")}
        </Link>
      </p>
      <PageHeader title={t("cmdb.import.title")}>{t("cmdb.import.intro")}</PageHeader>
      <Card className="mb-4">
        <form
          className="flex flex-wrap items-end gap-3"
          onSubmit={(e) => {
            e.preventDefault();
            if (file) check.mutate(file);
          }}
        >
          <Field label={t("cmdb.import.file")}>
            {(p) => (
              <Input
                {...p}
                type="file"
                accept=".csv,text/csv"
                onChange={(e) => {
                  setFile(e.target.files?.[0] ?? null);
                  setChecked(null);
                  setDone(null);
                }}
              />
            )}
          </Field>
          <Button type="submit" variant="primary" disabled={!file} busy={check.isPending}>
            {check.isPending ? t("cmdb.import.checking") : t("cmdb.import.check")}
          </Button>
        </form>
        {check.isError ? <Alert title={t("cmdb.import.failed")}>{describeError(check.error)}</Alert> : null}
      </Card>
      {checked ? (
        <Card as="section" aria-labelledby="import-report" className="mb-4">
          <h2 id="import-report" className="mb-2 font-semibold">
            {t("cmdb.import.report")}
          </h2>
          <p data-testid="import-summary">{summary(checked)}</p>
          {checked.errors.length ? (
            <table className="mt-2 w-full text-left" data-testid="import-errors">
              <caption className="sr-only">{t("cmdb.import.report")}</caption>
              <thead className="text-fg-muted">
                <tr>
                  <th scope="col">{t("cmdb.import.row")}</th>
                  <th scope="col">{t("cmdb.import.column")}</th>
                  <th scope="col">{t("cmdb.import.problem")}</th>
                </tr>
              </thead>
              <tbody>
                {checked.errors.map((e) => (
                  <tr key={`${e.row}-${e.field}`}>
                    <td>{e.row}</td>
                    <td className="font-mono text-sm">{e.field}</td>
                    <td>{e.message}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p className="text-fg-muted">{t("cmdb.import.noErrors")}</p>
          )}
          {checked.failed ? (
            <label className="mt-3 flex items-center gap-2">
              <input type="checkbox" checked={partial} onChange={(e) => setPartial(e.target.checked)} /> {t("cmdb.import.partial")}
            </label>
          ) : null}
          <Button className="mt-3" variant="primary" disabled={!canImport || !file} busy={run.isPending} onClick={() => file && run.mutate(file)}>
            {t("cmdb.import.run", { n: checked.rows - checked.failed })}
          </Button>
          {run.isError ? <Alert title={t("cmdb.import.failed")}>{describeError(run.error)}</Alert> : null}
        </Card>
      ) : null}
      {done ? (
        <Alert tone="success" title={t("cmdb.import.done")}>
          <span data-testid="import-done">{summary(done)}</span>
        </Alert>
      ) : null}
    </>
  );
}

function summary(report: ImportReport): string {
  return t("cmdb.import.summary", {
    rows: report.rows,
    created: report.created,
    updated: report.updated,
    unchanged: report.unchanged,
    failed: report.failed,
  });
}
