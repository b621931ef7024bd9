import type { components } from "./schema";

/** An RFC 9457 problem, as every API error answers (see docs/api.md). */
export type Problem = components["schemas"]["Problem"] & Record<string, unknown>;

export interface FieldError {
  field: string;
  detail: string;
}

/** A failed API call: the status, and the problem body when the server sent one. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem | null;

  constructor(status: number, problem: Problem | null) {
    super(problem?.detail ?? problem?.title ?? `request failed (${status})`);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
  }

  /** Field errors by field name ("title", "custom_fields.asset_tag", ...). */
  get fieldErrors(): Record<string, string> {
    return fieldErrors(this.problem);
  }

  /** 412: someone else saved first; the caller must reload. */
  get isConflict(): boolean {
    return this.status === 412;
  }
}

/** A request that never got an answer (offline, DNS, connection reset). */
export class NetworkError extends Error {
  constructor(cause: unknown) {
    super("The server could not be reached. Check your connection; we will retry.");
    this.name = "NetworkError";
    this.cause = cause;
  }
}

export function fieldErrors(problem: Problem | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const error of problem?.errors ?? []) {
    const field = error.field ?? error.pointer?.replace(/^\//, "").replaceAll("/", ".");
    if (field && error.detail && !(field in out)) out[field] = error.detail;
  }
  return out;
}

export function isProblem(value: unknown): value is Problem {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { status?: unknown }).status === "number" &&
    typeof (value as { title?: unknown }).title === "string"
  );
}

/** What to tell a person about an error, in one sentence. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 412) return "This was changed by someone else. It has been reloaded.";
    if (error.status === 429) return "Too many attempts. Please wait a moment and try again.";
    if (error.status >= 500) return "Something went wrong on our side. Please try again.";
    return error.problem?.detail ?? error.problem?.title ?? error.message;
  }
  if (error instanceof NetworkError) return error.message;
  return "Something went wrong. Please try again.";
}
