/** Report exports: a synchronous download, or an export job when the answer would be too big. */
import { downloadExport } from "../api/download";
import { ApiError } from "../api/problem";
import { idempotencyKey } from "../api/client";
import { startExport } from "./api";
import type { ExportFormat, ExportJob } from "./types";

/** The sync export refused for its size (422 naming `max_rows`, as the ticket export does),
 * or the server answers this format only as a job (PDF while it renders asynchronously). */
export function needsJob(error: unknown, format: ExportFormat = "csv"): boolean {
  if (!(error instanceof ApiError)) return false;
  if (error.status === 413) return true;
  if (error.status !== 422) return false;
  const fields = error.fieldErrors;
  // A route that does not render this format at once (PDF): the export job does.
  if (format === "pdf" && "format" in fields) return true;
  return "max_rows" in fields || typeof error.problem?.max_rows === "number";
}

export type ExportOutcome = { kind: "downloaded" } | { kind: "job"; job: ExportJob };

/** Download `format` of a report now; if it is too large, start a job instead. */
export async function exportReport(name: string, query: Record<string, string>, format: ExportFormat, background = false): Promise<ExportOutcome> {
  if (!background) {
    try {
      await downloadExport(`/v1/reports/${encodeURIComponent(name)}`, { ...query, format });
      return { kind: "downloaded" };
    } catch (error) {
      if (!needsJob(error, format)) throw error;
    }
  }
  const job = await startExport({ kind: "report", report: name, params: query, format }, idempotencyKey());
  return { kind: "job", job };
}
