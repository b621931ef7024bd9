import { afterEach, describe, expect, test, vi } from "vitest";
import { QueueTickets } from "../graphql/operations";
import { graphql, page } from "./graphql";
import { ApiError, describeError } from "./problem";
import { getToken, markSignedIn, markSignedOut } from "./session";

interface Sent {
  url: string;
  authorization: string | null;
  body: Record<string, unknown> | null;
}

/** The browser's fetch, answering from a list (one answer per call, in order). */
function server(...answers: Array<{ status: number; body: unknown }>) {
  const sent: Sent[] = [];
  vi.stubGlobal("fetch", async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(new URL(String(input), window.location.origin), init);
    const text = await request.text();
    sent.push({ url: new URL(request.url).pathname, authorization: request.headers.get("Authorization"), body: text ? JSON.parse(text) : null });
    const answer = answers.shift();
    if (!answer) throw new Error("no answer left");
    return new Response(JSON.stringify(answer.body), { status: answer.status, headers: { "Content-Type": "application/json" } });
  });
  return sent;
}

const node = {
  id: "t1",
  number: "SD-1",
  title: "Printer",
  status: "open",
  priority: "high",
  slaDueAt: null,
  updatedAt: "2026-12-07T10:00:00Z",
  requester: { id: "u1", name: "Ann", avatarUrl: null },
  assignee: null,
};

afterEach(() => {
  vi.unstubAllGlobals();
  markSignedOut();
});

describe("a persisted query", () => {
  test("sends the hash with the caller's token, never the query text", async () => {
    markSignedIn({ token: "tok", expiresAt: Date.now() + 600_000 });
    const sent = server({ status: 200, body: { data: { tickets: { edges: [{ node }], pageInfo: { hasNextPage: false, endCursor: null } } } } });
    const data = await graphql(QueueTickets, { filter: { status: ["open"] }, sort: "-updated_at", first: 100 });
    expect(data.tickets.edges[0]?.node.requester.name).toBe("Ann");
    expect(sent).toHaveLength(1);
    expect(sent[0]?.url).toBe("/v1/graphql");
    expect(sent[0]?.authorization).toBe("Bearer tok");
    expect(sent[0]?.body).toEqual({
      operationName: "QueueTickets",
      variables: { filter: { status: ["open"] }, sort: "-updated_at", first: 100 },
      extensions: { persistedQuery: { version: 1, sha256Hash: QueueTickets.hash } },
    });
    expect(sent[0]?.body).not.toHaveProperty("query");
    expect(QueueTickets.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  test("a 401 refreshes the token once and replays the request, as REST", async () => {
    markSignedIn({ token: "old", expiresAt: Date.now() + 600_000 });
    const sent = server(
      { status: 401, body: { type: "about:blank", title: "Unauthorized", status: 401 } },
      { status: 200, body: { access_token: "new", expires_in: 900 } },
      { status: 200, body: { data: { tickets: { edges: [], pageInfo: { hasNextPage: false, endCursor: null } } } } },
    );
    const data = await graphql(QueueTickets, {});
    expect(data.tickets.edges).toEqual([]);
    expect(sent.map((s) => [s.url, s.authorization])).toEqual([
      ["/v1/graphql", "Bearer old"],
      ["/v1/auth/refresh", null],
      ["/v1/graphql", "Bearer new"],
    ]);
    expect(sent[2]?.body).toEqual(sent[0]?.body);
    expect(getToken()?.token).toBe("new");
  });

  test("a field error is the REST client's ApiError with the problem in its extensions", async () => {
    markSignedIn({ token: "tok", expiresAt: Date.now() + 600_000 });
    const problem = {
      code: "UNPROCESSABLE",
      type: "https://servicedesk.dev/problems/validation",
      title: "Unprocessable",
      status: 422,
      detail: "invalid filter",
      errors: [{ field: "sla", detail: "must be one of breached, at_risk" }],
    };
    server({ status: 200, body: { data: null, errors: [{ message: "invalid filter", path: ["tickets"], extensions: problem }] } });
    const error = await graphql(QueueTickets, { filter: { sla: ["late"] } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(422);
    expect((error as ApiError).fieldErrors).toEqual({ sla: "must be one of breached, at_risk" });
    expect(describeError(error)).toBe("Sla must be one of breached, at_risk.");
  });

  test("a 404 field error is a 404, as a REST 404", async () => {
    markSignedIn({ token: "tok", expiresAt: Date.now() + 600_000 });
    const problem = { code: "NOT_FOUND", type: "https://servicedesk.dev/problems/not-found", title: "Not found", status: 404, detail: "no such ticket" };
    server({ status: 200, body: { data: { ticket: null }, errors: [{ message: "no such ticket", path: ["ticket"], extensions: problem }] } });
    const error = (await graphql(QueueTickets, {}).catch((e: unknown) => e)) as ApiError;
    expect(error.status).toBe(404);
    expect(error.problem?.detail).toBe("no such ticket");
  });

  test("a request refused before running (unknown hash) keeps its HTTP status and code", async () => {
    markSignedIn({ token: "tok", expiresAt: Date.now() + 600_000 });
    // As the API answers it (graphql/errors.request_error): the problem without a detail.
    const extensions = { code: "PERSISTED_QUERY_NOT_FOUND", type: "https://servicedesk.dev/problems/bad-request", title: "Bad request", status: 400 };
    server({ status: 400, body: { errors: [{ message: "PersistedQueryNotFound", extensions }] } });
    const error = (await graphql(QueueTickets, {}).catch((e: unknown) => e)) as ApiError;
    expect(error.status).toBe(400);
    expect(error.problem?.code).toBe("PERSISTED_QUERY_NOT_FOUND");
    expect(describeError(error)).toBe("PersistedQueryNotFound");
  });

  test("a defect is a 500 with the same words as REST's", async () => {
    markSignedIn({ token: "tok", expiresAt: Date.now() + 600_000 });
    server({ status: 500, body: { type: "about:blank", title: "Internal Server Error", status: 500 } });
    const error = (await graphql(QueueTickets, {}).catch((e: unknown) => e)) as ApiError;
    expect(error.status).toBe(500);
    expect(describeError(error)).toBe("Something went wrong on our side. Please try again.");
  });
});

describe("a Relay connection as a keyset page", () => {
  test("continues from endCursor while there is a next page, and stops after", () => {
    const more = page({ edges: [{ node }], pageInfo: { hasNextPage: true, endCursor: "c1" } }, (n) => n.number);
    expect(more).toEqual({ items: ["SD-1"], next_cursor: "c1" });
    const last = page({ edges: [{ node }], pageInfo: { hasNextPage: false, endCursor: null } });
    expect(last).toEqual({ items: [node], next_cursor: null });
  });
});
