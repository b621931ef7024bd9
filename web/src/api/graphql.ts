import { authFetch } from "./client";
import { ApiError, isProblem, type Problem } from "./problem";

/**
 * A registered GraphQL operation (web/src/graphql/operations.ts, generated from the
 * .graphql documents by scripts/persisted_queries.py): its name and the SHA-256 of its
 * text. The text itself is not in the bundle; the server holds it (persisted.json).
 */
export interface PersistedOperation<TResult, TVariables> {
  readonly name: string;
  readonly hash: string;
  /** Never set: carries the result and variables types. */
  readonly __types?: [TResult, TVariables];
}

/** One error of a GraphQL answer; the API puts the problem+json fields in `extensions`. */
export interface GraphQLError {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; status?: number } & Partial<Problem>;
}

/** A Relay connection as the API answers it (keyset: `endCursor` continues the list). */
export interface Connection<N> {
  edges: Array<{ node: N }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/** A connection as the REST lists' page shape (`items`, `next_cursor`), for the screens
 * and their infinite queries. */
export function page<N, T = N>(connection: Connection<N>, map: (node: N) => T = (node) => node as unknown as T) {
  return {
    items: connection.edges.map((edge) => map(edge.node)),
    next_cursor: connection.pageInfo.hasNextPage ? connection.pageInfo.endCursor : null,
  };
}

export const GRAPHQL_PATH = "/v1/graphql";

/**
 * The problem an error carries: the API's extensions (type, title, status, detail, errors)
 * or, for a GraphQL error without them, a problem made from its message with `status`.
 */
export function problemOf(error: GraphQLError, status: number): Problem {
  const extensions = error.extensions ?? {};
  // Errors of a request that never ran carry no detail: their message is it.
  if (isProblem(extensions)) return { ...extensions, detail: extensions.detail ?? error.message };
  return { type: "about:blank", title: error.message, status, detail: error.message, code: extensions.code };
}

/** The error of a failed answer, as the REST client's (same status, same problem). */
function failure(status: number, body: unknown): ApiError {
  if (isProblem(body)) return new ApiError(status, body);
  const errors = (body as { errors?: GraphQLError[] } | null)?.errors;
  const first = errors?.[0];
  if (!first) return new ApiError(status, null);
  const problem = problemOf(first, status);
  return new ApiError(problem.status, problem);
}

/**
 * Run a persisted operation: POST /v1/graphql with the hash only (no query text), the
 * caller's token (refreshed once on a 401, as REST), and the result's data typed.
 *
 * Errors are thrown as the REST client's `ApiError`, so the same error UI applies:
 * a request refused before running (400: unknown hash, invalid variables; 401; 422) by
 * its HTTP status, and a field error (200 with `errors`: 403, 404, 409, 412, 422 from the
 * services) by the status in its extensions. A screen's query is all or nothing: any
 * error fails it.
 */
export async function graphql<TResult, TVariables>(
  operation: PersistedOperation<TResult, TVariables>,
  variables: TVariables,
  { signal }: { signal?: AbortSignal } = {},
): Promise<TResult> {
  const body = JSON.stringify({
    operationName: operation.name,
    variables,
    extensions: { persistedQuery: { version: 1, sha256Hash: operation.hash } },
  });
  // Built per attempt (a 401's replay too): the body goes out whole, not as a stream.
  const request = () => new Request(new URL(GRAPHQL_PATH, window.location.origin), {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body,
    signal,
  });
  const response = await authFetch(request);
  let answered: unknown = null;
  try {
    answered = await response.json();
  } catch {
    // An answer without a JSON body (a proxy's 502 page): its status says enough.
  }
  if (!response.ok) throw failure(response.status, answered);
  const answer = answered as { data?: TResult | null; errors?: GraphQLError[] } | null;
  if (answer?.errors?.length || !answer?.data) throw failure(response.status === 200 ? 500 : response.status, answered);
  return answer.data;
}
