import { authFetch } from "./client";
import { ApiError, isProblem } from "./problem";

export type ExportPath = "/v1/tickets/export" | "/v1/cis/export" | "/v1/reports/sla-compliance" | `/v1/reports/${string}`;
type QueryValue = string | number | boolean | readonly string[] | null | undefined;

/** The export URL: only the parameters given (the server refuses undeclared ones). */
export function exportUrl(path: ExportPath, query: Record<string, QueryValue>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === null || value === undefined || value === "") continue;
    if (Array.isArray(value)) for (const item of value) params.append(key, String(item));
    else params.set(key, String(value));
  }
  return `${path}?${params.toString()}`;
}

function filename(disposition: string | null, fallback: string): string {
  return /filename="([^"]+)"/.exec(disposition ?? "")?.[1] ?? fallback;
}

/** Fetch an export with the caller's token and hand it to the browser as a download. */
export async function downloadExport(path: ExportPath, query: Record<string, QueryValue>): Promise<void> {
  const response = await authFetch(new Request(exportUrl(path, query)));
  if (!response.ok) {
    const body: unknown = await response.json().catch(() => null);
    throw new ApiError(response.status, isProblem(body) ? body : null);
  }
  const blob = await response.blob();
  const href = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = href;
  const format = typeof query.format === "string" ? query.format : "csv";
  link.download = filename(response.headers.get("content-disposition"), `export.${format}`);
  document.body.append(link);
  link.click();
  link.remove();
  URL.revokeObjectURL(href);
}
