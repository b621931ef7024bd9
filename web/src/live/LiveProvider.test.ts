import { QueryClient } from "@tanstack/react-query";
import { describe, expect, test } from "vitest";
import { keys } from "../tickets/queries";
import { NOTIFICATION_RECHECK_MS, applyLiveMessage, liveUrl } from "./LiveProvider";
import { getToken, markSignedIn } from "../api/session";
import { TypingStore } from "./typing";
import { PresenceStore } from "./presence";

function primed() {
  const client = new QueryClient();
  for (const key of [
    keys.list({}),
    keys.ticket("T1"),
    keys.comments("T1"),
    keys.sla("T1"),
    keys.participants("T1"),
    keys.ticket("T2"),
    ["notifications", "unread-count"],
  ]) {
    client.setQueryData(key, { primed: true });
  }
  const stale = (key: readonly unknown[]) => client.getQueryState(key)?.isInvalidated ?? false;
  return { client, stale };
}

describe("applyLiveMessage", () => {
  test("a change event refreshes the change lists, that change, the calendar and ticket cards, not the settings nor tickets", () => {
    const { client, stale } = primed();
    const touched: unknown[][] = [["changes", "list", { q: "" }], ["changes", "change", "C1"], ["changes", "calendar", "a", "b"], ["changes", "ticket", "T1"], ["changes", "recent", null]];
    const untouched: unknown[][] = [["changes", "change", "C2"], ["changes", "settings"]];
    for (const key of [...touched, ...untouched]) client.setQueryData(key, { primed: true });
    applyLiveMessage(client, { type: "event", event: "change.state_changed", change_id: "C1", channels: ["changes"] });
    for (const key of touched) expect(stale(key), JSON.stringify(key)).toBe(true);
    for (const key of untouched) expect(stale(key), JSON.stringify(key)).toBe(false);
    expect(stale(keys.list({}))).toBe(false);
  });

  test("a public comment refreshes lists, that ticket's conversation and its SLA clocks, nothing else", () => {
    const { client, stale } = primed();
    applyLiveMessage(client, { type: "event", event: "comment.public", ticket_id: "T1" });
    expect(stale(keys.list({}))).toBe(true);
    expect(stale(keys.comments("T1"))).toBe(true);
    // A reply meets (or restarts) a response target: the badges must not go stale.
    expect(stale(keys.sla("T1"))).toBe(true);
    expect(stale(keys.ticket("T2"))).toBe(false);
  });

  test("an edited or deleted comment refreshes the conversation", () => {
    for (const event of ["comment.edited", "comment.deleted"]) {
      const { client, stale } = primed();
      applyLiveMessage(client, { type: "event", event, ticket_id: "T1" });
      expect(stale(keys.comments("T1"))).toBe(true);
    }
  });

  test("every event about a ticket refreshes its SLA badges", () => {
    for (const event of ["ticket.status_changed", "ticket.updated", "ticket.assigned", "sla.breached", "comment.internal"]) {
      const { client, stale } = primed();
      applyLiveMessage(client, { type: "event", event, ticket_id: "T1" });
      expect(stale(keys.sla("T1")), event).toBe(true);
    }
  });

  test("a status change refreshes the ticket; frames that are not events change nothing", () => {
    const { client, stale } = primed();
    applyLiveMessage(client, { type: "pong" });
    expect(stale(keys.list({}))).toBe(false);
    applyLiveMessage(client, { type: "event", event: "ticket.status_changed", ticket_id: "T1" });
    expect(stale(keys.ticket("T1"))).toBe(true);
  });
});

describe("applyLiveMessage: live edits and presence", () => {
  test("files refresh on attachment events, links on link and merge events", () => {
    const { client, stale } = primed();
    client.setQueryData(keys.attachments("T1"), { primed: true });
    client.setQueryData([...keys.ticket("T1"), "links"], { primed: true });
    applyLiveMessage(client, { type: "event", event: "attachment.added", ticket_id: "T1" });
    expect(stale(keys.attachments("T1"))).toBe(true);
    expect(stale([...keys.ticket("T1"), "links"])).toBe(false);
    for (const event of ["ticket.linked", "ticket.unlinked", "ticket.merged"]) {
      client.setQueryData([...keys.ticket("T1"), "links"], { primed: true });
      applyLiveMessage(client, { type: "event", event, ticket_id: "T1" });
      expect(stale([...keys.ticket("T1"), "links"]), event).toBe(true);
    }
  });

  test("a field edit refreshes the ticket and its people; a reply refreshes the people", () => {
    const { client, stale } = primed();
    applyLiveMessage(client, { type: "event", event: "ticket.updated", ticket_id: "T1", data: { fields: ["priority"] } });
    expect(stale(keys.ticket("T1"))).toBe(true);
    const other = primed();
    applyLiveMessage(other.client, { type: "event", event: "comment.public", ticket_id: "T1" });
    expect(other.stale(keys.participants("T1"))).toBe(true);
  });

  test("presence frames and presence acks go to the presence store, not the caches", () => {
    const { client, stale } = primed();
    const presence = new PresenceStore(() => 0);
    applyLiveMessage(client, { type: "presence", ticket_id: "T1", user_id: "u1", name: "Sam", state: "editing" }, undefined, setTimeout, presence);
    applyLiveMessage(client, { type: "ack", action: "presence", channel: "ticket:T2", present: [{ user_id: "u2", name: "Alex", state: "viewing" }] }, undefined, setTimeout, presence);
    expect(presence.viewers("T1").map((v) => [v.name, v.state])).toEqual([["Sam", "editing"]]);
    expect(presence.viewers("T2").map((v) => v.name)).toEqual(["Alex"]);
    expect(stale(keys.list({}))).toBe(false);
  });
});

describe("applyLiveMessage: typing and notifications", () => {
  test("a typing frame reaches the typing store and refetches nothing", () => {
    const { client, stale } = primed();
    const typing = new TypingStore(() => 0);
    applyLiveMessage(client, { type: "typing", ticket_id: "T1", user_id: "U", name: "Alex", visibility: "public" }, typing);
    expect(typing.typists("T1").map((t) => t.name)).toEqual(["Alex"]);
    expect(stale(keys.list({}))).toBe(false);
  });

  test("the typist's own message ends their indicator", () => {
    const { client } = primed();
    const typing = new TypingStore(() => 0);
    typing.receive({ type: "typing", ticket_id: "T1", user_id: "U", name: "Alex", visibility: "public" });
    applyLiveMessage(client, { type: "event", event: "comment.public", ticket_id: "T1", data: { actor_id: "U" } }, typing);
    expect(typing.typists("T1")).toEqual([]);
  });

  test("an event in the inbox refreshes the bell now and again a little later", () => {
    const { client, stale } = primed();
    const later: number[] = [];
    const event = { type: "event", event: "comment.public", ticket_id: "T1", notification: true };
    applyLiveMessage(client, event, undefined, (_fn, ms) => later.push(ms));
    expect(stale(["notifications", "unread-count"])).toBe(true);
    expect(later).toEqual([...NOTIFICATION_RECHECK_MS]);
  });

  test("an event not in the inbox leaves the bell alone; an assignment refreshes the people", () => {
    const { client, stale } = primed();
    applyLiveMessage(client, { type: "event", event: "ticket.assigned", ticket_id: "T1" }, undefined, () => {
      throw new Error("nothing to schedule");
    });
    expect(stale(["notifications", "unread-count"])).toBe(false);
    expect(stale(keys.participants("T1"))).toBe(true);
  });
});

describe("liveUrl", () => {
  const answer = (body: unknown, status = 200) => (async () => new Response(JSON.stringify(body), { status })) as unknown as typeof fetch;

  test("the runtime config's WebSocket URL wins", async () => {
    expect(await liveUrl(answer({ websocketUrl: "wss://abc.execute-api.eu-west-1.amazonaws.com/ws" }))).toBe(
      "wss://abc.execute-api.eu-west-1.amazonaws.com/ws",
    );
  });

  test("no config, a null URL or a strange one fall back to this origin", async () => {
    const here = `ws://${window.location.host}/ws`;
    expect(await liveUrl(answer({ websocketUrl: null }))).toBe(here);
    expect(await liveUrl(answer({ websocketUrl: "javascript:alert(1)" }))).toBe(here);
    expect(await liveUrl(answer({}, 404))).toBe(here);
  });
});

describe("a revoked session", () => {
  test("the server's closing frame signs this tab out at once; other closings do not", () => {
    markSignedIn({ token: "t", expiresAt: Date.now() + 60_000 });
    applyLiveMessage(new QueryClient(), { type: "closing", reason: "expired" });
    expect(getToken()).not.toBeNull();
    applyLiveMessage(new QueryClient(), { type: "closing", reason: "session_revoked" });
    expect(getToken()).toBeNull();
  });

  test("a project's event refreshes that project's screens and the lists across projects, not another project", () => {
    const { client, stale } = primed();
    for (const key of [["projects", "one", "P1", "tasks"], ["projects", "one", "P2", "tasks"], ["projects", "list", {}], ["projects", "mine", true]]) client.setQueryData(key, { primed: true });
    applyLiveMessage(client, { type: "event", event: "task.moved", data: { project_id: "P1", task_id: "X" } });
    expect(stale(["projects", "one", "P1", "tasks"])).toBe(true);
    expect(stale(["projects", "list", {}])).toBe(true);
    expect(stale(["projects", "mine", true])).toBe(true);
    expect(stale(["projects", "one", "P2", "tasks"])).toBe(false);
  });
});
