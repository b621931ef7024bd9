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

/** "custom_fields.asset_tag" -> "Asset tag": the field a person recognises from the form. */
export function fieldLabel(field: string): string {
  const last = field.split(".").filter((part) => !/^\d+$/.test(part)).pop() ?? field;
  const words = last.includes("-") ? last : last.replaceAll("_", " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Field errors as sentences: the server writes each as a phrase that follows the field
 * name ("must be at least 3 characters", "is required"). */
export function describeFieldErrors(problem: Problem | null | undefined): string | null {
  const entries = Object.entries(fieldErrors(problem));
  const first = entries[0];
  if (!first) return null;
  const [field, detail] = first;
  const more = entries.length - 1;
  return `${fieldLabel(field)} ${detail}.` + (more ? ` (${more} more ${more === 1 ? "field needs" : "fields need"} attention.)` : "");
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
    // A 503 problem is one the API says on purpose (a directory or provider that cannot be
    // reached, a busy database: platform/errors.ServiceUnavailable); other 5xx never leak.
    if (error.status === 503 && error.problem?.detail) return capitalise(error.problem.detail);
    if (error.status >= 500) return "Something went wrong on our side. Please try again.";
    if (error.status === 422) return describeFieldErrors(error.problem) ?? error.problem?.detail ?? error.message;
    return error.problem?.detail ?? error.problem?.title ?? error.message;
  }
  if (error instanceof NetworkError) return error.message;
  return "Something went wrong. Please try again.";
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
