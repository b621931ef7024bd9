/** Export jobs as the Exports page shows them (pure, tested in jobs.test.ts). */
import type { ExportJob } from "./types";
import { labelled, t } from "../i18n/reports";

export const ACTIVE_JOB = new Set(["queued", "running"]);

/** Progress 0..1, or null when the total is not known yet. */
export function jobProgress(job: Pick<ExportJob, "status" | "rows_done" | "rows_total">): number | null {
  if (job.status === "done") return 1;
  const total = job.rows_total ?? null;
  if (total === null || total <= 0) return null;
  return Math.min(1, Math.max(0, (job.rows_done ?? 0) / total));
}

const STATUS_TEXT: Record<ExportJob["status"], string> = labelled({
  queued: "reports.jobs.waitingToStart",
  running: "reports.jobs.preparing",
  done: "reports.jobs.ready",
  failed: "reports.jobs.failed",
  expired: "reports.jobs.expired",
});

export function jobStatusText(job: Pick<ExportJob, "status" | "rows_done" | "rows_total" | "error">): string {
  if (job.status === "running" && job.rows_total) return t("reports.jobs.preparingValueOfRows", { value: job.rows_done ?? 0, rows_total: job.rows_total });
  if (job.status === "failed" && job.error) return t("reports.jobs.failedError", { error: job.error });
  return STATUS_TEXT[job.status] ?? job.status;
}

/** Poll every `ms` while a job is still running; not at all otherwise. */
export function jobsPoll(jobs: Pick<ExportJob, "status">[] | undefined, ms = 2_000): number | false {
  return jobs?.some((j) => ACTIVE_JOB.has(j.status)) ? ms : false;
}

const NAMES: Record<string, string> = labelled({ tickets: "reports.jobs.ticketList" });

export function jobTitle(job: Pick<ExportJob, "kind" | "report" | "format">, titles: Record<string, string> = {}): string {
  const what = job.kind === "report" ? (titles[job.report ?? ""] ?? job.report ?? t("reports.jobs.report")) : (NAMES[job.kind] ?? job.kind);
  return t("reports.jobs.titleFormat", { what, format: job.format.toUpperCase() });
}
