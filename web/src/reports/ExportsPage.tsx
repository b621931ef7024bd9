/**
 * My exports: the jobs the person started (a report or a ticket list too large to download
 * at once), with live progress and a download button when ready. The in-app notification
 * "your export is ready" links here.
 */
import { useState } from "react";
import { useParams } from "react-router";
import { ScrollArea } from "../admin/fields";
import { Badge, Button, EmptyState, PageHeader } from "../components/ui";
import { ErrorAlert } from "../tickets/Composer";
import { formatBytes, formatDateTime } from "../lib/format";
import { exportDownload, reportKeys, useCatalogue, useExports } from "./api";
import { jobProgress, jobStatusText, jobTitle } from "./jobs";
import { useListing } from "./listing";
import type { ExportJob } from "./types";
import { t } from "../i18n/reports";

const TONE = { queued: "neutral", running: "info", done: "success", failed: "danger", expired: "neutral" } as const;

export default function ExportsPage() {
  const jobs = useListing(useExports(), reportKeys.exports, "exports");
  const { jobId } = useParams();
  const catalogue = useCatalogue();
  const titles = Object.fromEntries((catalogue.data ?? []).map((r) => [r.name, r.title]));
  return (
    <>
      <PageHeader
        title={t("reports.exports.myExports")}
        actions={
          <Button onClick={() => void jobs.reload()} busy={jobs.reloading}>
            {t("reports.exports.refresh")}
          </Button>
        }
      >
        {t("reports.exports.largeExportsArePrepared")}
      </PageHeader>
      {jobs.status}
      {jobs.empty ? <EmptyState title={t("reports.exports.noExportsYet")}>{t("reports.exports.exportAReportOr")}</EmptyState> : null}
      {jobs.items.length ? (
        <ScrollArea label={t("reports.exports.exports")}>
          <table className="w-full text-left" data-testid="exports">
            <caption className="sr-only">{t("reports.exports.myExports")}</caption>
            <thead className="border-b border-border text-fg-muted">
              <tr>
                <th scope="col" className="px-2 py-2 font-medium">{t("reports.exports.export")}</th>
                <th scope="col" className="px-2 py-2 font-medium">{t("reports.exports.started")}</th>
                <th scope="col" className="px-2 py-2 font-medium">{t("reports.exports.progress")}</th>
                <th scope="col" className="px-2 py-2 font-medium">
                  <span className="sr-only">{t("reports.exports.download")}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {jobs.items.map((job) => (
                <JobRow key={job.id} job={job} title={jobTitle(job, titles)} current={job.id === jobId} />
              ))}
            </tbody>
          </table>
        </ScrollArea>
      ) : null}
    </>
  );
}

function JobRow({ job, title, current }: { job: ExportJob; title: string; current: boolean }) {
  const progress = jobProgress(job);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const download = async () => {
    setBusy(true);
    setError(null);
    try {
      const { url, filename } = await exportDownload(job.id);
      const link = document.createElement("a");
      link.href = url;
      link.download = filename;
      link.rel = "noopener";
      document.body.append(link);
      link.click();
      link.remove();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return (
    <tr
      aria-current={current || undefined}
      className={`border-b border-border align-top last:border-0 ${current ? "bg-accent-subtle" : ""}`}
      data-testid={`export-${job.id}`}
    >
      <th scope="row" className="px-2 py-2 font-medium">
        {title}
        {job.size_bytes ? <span className="block font-normal text-fg-muted">{formatBytes(job.size_bytes)}</span> : null}
      </th>
      <td className="whitespace-nowrap px-2 py-2 text-fg-muted">{formatDateTime(job.created_at)}</td>
      <td className="px-2 py-2">
        <div className="flex flex-col gap-1">
          <Badge tone={TONE[job.status]}>{jobStatusText(job)}</Badge>
          {job.status === "running" || job.status === "queued" ? (
            <progress className="h-2 w-40" max={1} value={progress ?? undefined} aria-label={t("reports.exports.titleProgress", { title })}>
              {progress === null ? "" : t("reports.exports.value", { value: Math.round(progress * 100) })}
            </progress>
          ) : null}
          {job.expires_at && job.status === "done" ? <span className="text-fg-muted">{t("reports.exports.untilWhen", { when: formatDateTime(job.expires_at) })}</span> : null}
        </div>
      </td>
      <td className="px-2 py-2 text-right">
        {job.status === "done" ? (
          <Button size="sm" variant="primary" onClick={() => void download()} busy={busy} aria-label={t("reports.exports.downloadTitle", { title })}>
            {t("reports.exports.download")}
          </Button>
        ) : null}
        {error ? <ErrorAlert error={error} /> : null}
      </td>
    </tr>
  );
}
