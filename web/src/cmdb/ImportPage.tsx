import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useSearchParams } from "react-router";
import { api, ok } from "../api/client";
import { describeError } from "../api/problem";
import { Alert, Button, Card, Field, Input, PageHeader } from "../components/ui";
import { t } from "../i18n/cmdb";
import {
  IMPORT_POLL_MS,
  importCheckedJob,
  importCsv,
  importViaJob,
  SYNC_IMPORT_BYTES,
  type ImportJob,
  type ImportProgress,
  type ImportReport,
} from "./api";

/** What an import answered: its report, and why it failed as a whole (a job's `error`:
 * a failing row without `partial`, a bad byte past the checked head). */
interface Outcome {
  report: ImportReport;
  failure: string | null;
  /** The job that checked a large file: importing it reuses its upload. */
  jobId?: string;
}

/** A file up to the synchronous limit is one request; a larger one goes through an import
 * job (uploaded to S3 with progress, then polled). Both answer the same report. */
async function runImport(
  file: File,
  options: { dryRun: boolean; partial: boolean; checkedJob?: string },
  onProgress: (p: ImportProgress | null) => void,
): Promise<Outcome> {
  if (file.size <= SYNC_IMPORT_BYTES) return { report: await importCsv(file, options), failure: null };
  try {
    const { checkedJob } = options;
    return outcome(checkedJob ? await importCheckedJob(checkedJob, options.partial, onProgress) : await importViaJob(file, options, onProgress));
  } finally {
    onProgress(null);
  }
}

function outcome(job: ImportJob): Outcome {
  const report = job.report ?? { rows: job.rows_read, created: 0, updated: 0, unchanged: 0, failed: 0, written: false, errors: [] };
  return { report, failure: job.status === "failed" ? (job.error ?? t("cmdb.import.failed")) : null, jobId: job.id };
}

/** The import wizard: choose a CSV, check it (a dry run: every row's problems), then
 * import it — all rows, or (asked for) only the rows that pass. `?job=<id>` (the link of
 * the "import finished" notification) shows that job's report. */
export default function ImportPage() {
  const client = useQueryClient();
  const [params] = useSearchParams();
  const jobId = params.get("job");
  const [file, setFile] = useState<File | null>(null);
  const [partial, setPartial] = useState(false);
  const [progress, setProgress] = useState<ImportProgress | null>(null);
  const [checked, setChecked] = useState<Outcome | null>(null);
  const [done, setDone] = useState<Outcome | null>(null);
  const check = useMutation({
    mutationFn: (chosen: File) => runImport(chosen, { dryRun: true, partial: false }, setProgress),
    onSuccess: (result) => {
      setChecked(result);
      setDone(null);
    },
  });
  const run = useMutation({
    mutationFn: (chosen: File) => runImport(chosen, { dryRun: false, partial, checkedJob: checked?.jobId }, setProgress),
    onSuccess: (result) => {
      setDone(result);
      void client.invalidateQueries({ queryKey: ["cmdb"] });
    },
  });
  const report = checked?.report;
  const canImport = report !== undefined && checked?.failure === null && (report.failed === 0 || partial) && report.rows > report.failed;
  return (
    <>
      <p className="mb-2">
        <Link to="/cmdb" className="text-accent-text underline">
          {t("cmdb.detail.back")}
        </Link>
      </p>
      <PageHeader title={t("cmdb.import.title")}>{t("cmdb.import.intro")}</PageHeader>
      {jobId ? <JobReport id={jobId} /> : null}
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
          <Button type="submit" variant="primary" disabled={!file || run.isPending} busy={check.isPending}>
            {check.isPending ? t("cmdb.import.checking") : t("cmdb.import.check")}
          </Button>
        </form>
        {file && file.size > SYNC_IMPORT_BYTES ? <p className="mt-2 text-fg-muted" data-testid="import-large">{t("cmdb.import.large")}</p> : null}
        <ProgressLine progress={progress} />
        {check.isError ? <Alert title={t("cmdb.import.failed")}>{describeError(check.error)}</Alert> : null}
      </Card>
      {checked ? (
        <Card as="section" aria-labelledby="import-report" className="mb-4">
          <h2 id="import-report" className="mb-2 font-semibold">
            {t("cmdb.import.report")}
          </h2>
          <ReportView outcome={checked} testId="import-summary" />
          {checked.report.failed && checked.failure === null ? (
            <label className="mt-3 flex items-center gap-2">
              <input type="checkbox" checked={partial} onChange={(e) => setPartial(e.target.checked)} /> {t("cmdb.import.partial")}
            </label>
          ) : null}
          <Button className="mt-3" variant="primary" disabled={!canImport || !file || check.isPending} busy={run.isPending} onClick={() => file && run.mutate(file)}>
            {t("cmdb.import.run", { n: checked.report.rows - checked.report.failed })}
          </Button>
          {run.isError ? <Alert title={t("cmdb.import.failed")}>{describeError(run.error)}</Alert> : null}
        </Card>
      ) : null}
      {done && done.failure === null ? (
        <Alert tone="success" title={t("cmdb.import.done")}>
          <span data-testid="import-done">{summary(done.report)}</span>
        </Alert>
      ) : null}
      {done && done.failure !== null ? (
        <Card as="section" aria-label={t("cmdb.import.failed")} className="mb-4">
          <ReportView outcome={done} testId="import-done-failed" />
        </Card>
      ) : null}
    </>
  );
}

/** Upload progress, then rows read: a polite live region, with a progress bar while the
 * upload's size is known. */
function ProgressLine({ progress }: { progress: ImportProgress | null }) {
  let text = "";
  if (progress?.stage === "uploading") {
    text = t("cmdb.import.uploading", { percent: progress.total ? Math.floor((100 * progress.done) / progress.total) : 0 });
  } else if (progress?.stage === "queued") {
    text = t("cmdb.import.queued");
  } else if (progress?.stage === "running") {
    text = t("cmdb.import.reading", { rows: progress.done });
  }
  return (
    <div className="mt-2" role="status" aria-live="polite" data-testid="import-progress">
      {progress?.stage === "uploading" ? (
        <progress className="mr-2 align-middle" aria-label={t("cmdb.import.progress")} max={progress.total || 1} value={progress.done} />
      ) : null}
      {text}
    </div>
  );
}

/** A report's counts and its row errors; a failure as a whole above them. */
function ReportView({ outcome: { report, failure }, testId }: { outcome: Outcome; testId: string }) {
  return (
    <>
      {failure !== null ? <Alert title={t("cmdb.import.failed")}>{failure}</Alert> : null}
      <p data-testid={testId}>{summary(report)}</p>
      {report.errors.length ? (
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
            {report.errors.map((e) => (
              <tr key={`${e.row}-${e.field}`}>
                <td>{e.row}</td>
                <td className="font-mono text-sm">{e.field}</td>
                <td>{e.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : failure === null ? (
        <p className="text-fg-muted">{t("cmdb.import.noErrors")}</p>
      ) : null}
    </>
  );
}

/** One job's state and report (polled while it runs). */
function JobReport({ id }: { id: string }) {
  const job = useQuery({
    queryKey: ["cmdb", "import-job", id],
    queryFn: ({ signal }) => ok(api.GET("/v1/cis/imports/{job_id}", { params: { path: { job_id: id } }, signal })),
    refetchInterval: (query) => {
      const status = query.state.data?.status;
      return status === "queued" || status === "running" ? IMPORT_POLL_MS : false;
    },
  });
  return (
    <Card as="section" aria-labelledby="import-job" className="mb-4">
      <h2 id="import-job" className="mb-2 font-semibold">
        {t("cmdb.import.job")} {job.data?.filename ?? ""}
      </h2>
      {job.isPending ? <p role="status">{t("cmdb.import.jobLoading")}</p> : null}
      {job.isError ? <Alert>{describeError(job.error)}</Alert> : null}
      {job.data && (job.data.status === "queued" || job.data.status === "running" || job.data.status === "awaiting_upload") ? (
        <p role="status" aria-live="polite">
          {t("cmdb.import.reading", { rows: job.data.rows_read })}
        </p>
      ) : null}
      {job.data && (job.data.status === "done" || job.data.status === "failed") ? (
        <ReportView outcome={outcome(job.data)} testId="import-job-summary" />
      ) : null}
    </Card>
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
