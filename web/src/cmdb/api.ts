import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { api, authFetch, idempotencyKey, ok } from "../api/client";
import { ApiError, isProblem } from "../api/problem";
import type { components } from "../api/schema";
import { labelled } from "../i18n/cmdb";
import { postForm } from "../tickets/upload";

type Schemas = components["schemas"];
export type CI = Schemas["CIPublic"];
export type CIClass = Schemas["CIClassPublic"];
export type CIState = CI["state"];
export type Relationship = Schemas["RelationshipPublic"];
export type RelationshipType = Relationship["type"];
export type HistoryEntry = Schemas["HistoryEntry"];
export type Impact = Schemas["Impact"];
export type ImportReport = Schemas["ImportReport"];
export type Direction = "up" | "down" | "both";

export const STATE_LABELS: Record<CIState, string> = labelled({
  ordered: "cmdb.state.ordered",
  in_stock: "cmdb.state.in_stock",
  deployed: "cmdb.state.deployed",
  in_repair: "cmdb.state.in_repair",
  retired: "cmdb.state.retired",
  disposed: "cmdb.state.disposed",
});

export const RELATIONSHIP_LABELS: Record<RelationshipType, string> = labelled({
  depends_on: "cmdb.rel.depends_on",
  runs_on: "cmdb.rel.runs_on",
  connected_to: "cmdb.rel.connected_to",
  contains: "cmdb.rel.contains",
  used_by: "cmdb.rel.used_by",
});

/** The lifecycle moves the API allows (docs/cmdb.md); a new CI may start in any state
 * but `disposed`. */
export const TRANSITIONS: Record<CIState, CIState[]> = {
  ordered: ["in_stock", "retired"],
  in_stock: ["deployed", "in_repair", "retired"],
  deployed: ["in_stock", "in_repair", "retired"],
  in_repair: ["in_stock", "deployed", "retired"],
  retired: ["in_stock", "disposed"],
  disposed: [],
};

/** The states a CI's form offers: its own and where it may go (a new one: all but disposed). */
export function statesFor(current: CIState | null): CIState[] {
  if (current === null) return (Object.keys(TRANSITIONS) as CIState[]).filter((s) => s !== "disposed");
  return [current, ...TRANSITIONS[current]];
}

export interface CIFilters {
  q: string;
  class_id: string;
  state: CIState | "";
  location: string;
}

export const cmdbKeys = {
  classes: ["cmdb", "classes"] as const,
  list: (filters: CIFilters) => ["cmdb", "cis", filters] as const,
  ci: (id: string) => ["cmdb", "ci", id] as const,
  users: (id: string) => ["cmdb", "ci", id, "users"] as const,
  relationships: (id: string) => ["cmdb", "ci", id, "relationships"] as const,
  history: (id: string) => ["cmdb", "ci", id, "history"] as const,
  impact: (id: string, direction: Direction, depth: number) => ["cmdb", "ci", id, "impact", direction, depth] as const,
  ticketCis: (ticketId: string) => ["tickets", ticketId, "cis"] as const,
  affected: (ticketId: string) => ["tickets", ticketId, "affected-services"] as const,
};

/** The list's query parameters: only the filters set. */
export function listQuery(filters: CIFilters) {
  return {
    q: filters.q || null,
    class_id: filters.class_id || null,
    state: filters.state || null,
    location: filters.location || null,
  };
}

export function useClasses() {
  return useQuery({
    queryKey: cmdbKeys.classes,
    queryFn: ({ signal }) => ok(api.GET("/v1/ci-classes", { params: { query: { limit: 100 } }, signal })),
    select: (page) => page.items,
    staleTime: 60_000,
  });
}

export function useCis(filters: CIFilters) {
  return useInfiniteQuery({
    queryKey: cmdbKeys.list(filters),
    initialPageParam: null as string | null,
    queryFn: ({ pageParam, signal }) =>
      ok(api.GET("/v1/cis", { params: { query: { limit: 50, cursor: pageParam, ...listQuery(filters) } }, signal })),
    getNextPageParam: (last) => last.next_cursor ?? null,
  });
}

export function useCi(id: string) {
  return useQuery({
    queryKey: cmdbKeys.ci(id),
    queryFn: ({ signal }) => ok(api.GET("/v1/cis/{ci_id}", { params: { path: { ci_id: id } }, signal })),
  });
}

export function useRelationships(id: string) {
  return useQuery({
    queryKey: cmdbKeys.relationships(id),
    queryFn: ({ signal }) =>
      ok(api.GET("/v1/cis/{ci_id}/relationships", { params: { path: { ci_id: id }, query: { limit: 100 } }, signal })),
    select: (page) => page.items,
  });
}

export function useHistory(id: string) {
  return useQuery({
    queryKey: cmdbKeys.history(id),
    queryFn: ({ signal }) =>
      ok(api.GET("/v1/cis/{ci_id}/history", { params: { path: { ci_id: id }, query: { limit: 50 } }, signal })),
    select: (page) => page.items,
  });
}

export function useImpact(id: string, direction: Direction, depth: number) {
  return useQuery({
    queryKey: cmdbKeys.impact(id, direction, depth),
    queryFn: ({ signal }) =>
      ok(api.GET("/v1/cis/{ci_id}/impact", { params: { path: { ci_id: id }, query: { direction, depth } }, signal })),
  });
}

/** POST a CSV to the import: the report (a dry run, or what was written). A failing
 * import without `partial` is a problem whose errors name `rows.<row>.<column>`. */
export async function importCsv(file: Blob, options: { dryRun: boolean; partial: boolean }): Promise<ImportReport> {
  const params = new URLSearchParams({ dry_run: String(options.dryRun), partial: String(options.partial) });
  const response = await authFetch(
    new Request(`/v1/cis/import?${params.toString()}`, { method: "POST", headers: { "Content-Type": "text/csv" }, body: file }),
  );
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, isProblem(body) ? body : null);
  return body as ImportReport;
}

/** The synchronous import's limit (the server's 6 MB): a larger file goes through a job. */
export const SYNC_IMPORT_BYTES = 6 * 1024 * 1024;
export type ImportJob = Schemas["ImportJobPublic"];
export type ImportStage = "uploading" | "queued" | "running";
export interface ImportProgress {
  stage: ImportStage;
  /** Bytes uploaded (uploading) or rows read (running). */
  done: number;
  total: number;
}
export const IMPORT_POLL_MS = 1000;

/** An import through a job (docs/cmdb.md, "Import jobs"): ask for the job and its form,
 * post the file straight to S3 (with progress), start it, then poll until it ends. A job
 * that failed as a whole carries its report (row errors) and `error`. */
export async function importViaJob(
  file: File,
  options: { dryRun: boolean; partial: boolean },
  onProgress: (p: ImportProgress) => void,
  signal?: AbortSignal,
): Promise<ImportJob> {
  const created = await ok(
    api.POST("/v1/cis/imports", {
      body: { size: file.size, filename: file.name.slice(0, 255), dry_run: options.dryRun, partial: options.partial },
      params: { header: { "Idempotency-Key": idempotencyKey() } },
    }),
  );
  await postForm(
    created.upload.url,
    created.upload.fields,
    file,
    (p) => onProgress({ stage: "uploading", done: p.loaded, total: p.total }),
    signal,
  );
  const started = await ok(api.POST("/v1/cis/imports/{job_id}/start", { params: { path: { job_id: created.id } } }));
  return followImportJob(started, onProgress, signal);
}

/** Import the file a finished dry-run job checked, without uploading it again; then poll. */
export async function importCheckedJob(
  dryRunId: string,
  partial: boolean,
  onProgress: (p: ImportProgress) => void,
  signal?: AbortSignal,
): Promise<ImportJob> {
  const queued = await ok(
    api.POST("/v1/cis/imports/{job_id}/import", {
      params: { path: { job_id: dryRunId }, header: { "Idempotency-Key": idempotencyKey() } },
      body: { partial },
    }),
  );
  return followImportJob(queued, onProgress, signal);
}

async function followImportJob(first: ImportJob, onProgress: (p: ImportProgress) => void, signal?: AbortSignal): Promise<ImportJob> {
  let job = first;
  while (job.status === "queued" || job.status === "running") {
    onProgress({ stage: job.status, done: job.rows_read, total: 0 });
    await new Promise((resolve) => setTimeout(resolve, IMPORT_POLL_MS));
    if (signal?.aborted) throw new DOMException("aborted", "AbortError");
    job = await ok(api.GET("/v1/cis/imports/{job_id}", { params: { path: { job_id: first.id } }, signal }));
  }
  return job;
}

/** A history value as one line of text. */
export function shown(value: unknown): string {
  if (value === null || value === undefined) return "—";
  return typeof value === "string" ? value : JSON.stringify(value);
}
